-- Bulk part of api/benches/seed_1m.sh (run by it with psql -v tickets=N): the tenants and their
-- tenant admins exist already, created by the app. Everything below is written in the shapes
-- the app writes: UUIDv7 primary keys, per-tenant gapless ticket numbers in creation order with
-- matching ticket_counters, a `created` activity per ticket, lower-cased search_text.
\set ON_ERROR_STOP on
SET synchronous_commit = off;
SET work_mem = '256MB';
SET maintenance_work_mem = '512MB';

-- A UUIDv7 whose timestamp is `at` (the random bits come from gen_random_uuid()).
CREATE FUNCTION pg_temp.uuid7(at timestamptz) RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT (substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-7' || substr(u, 16, 3) || substr(u, 19))::uuid
    FROM (SELECT lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0') AS h,
                 gen_random_uuid()::text AS u) AS parts
$$;

CREATE TEMP TABLE bench_start AS SELECT date_trunc('second', now()) - interval '90 days' AS at;

-- The tenants in slug order (c-001 first); tenant k gets the share 1/(k+10) of the tickets.
CREATE TEMP TABLE bt AS
SELECT row_number() OVER (ORDER BY t.slug) - 1 AS k, t.id, t.slug, t.kind,
       u.id AS admin_id, u.password_hash
FROM tenants t JOIN users u ON u.tenant_id = t.id AND u.email = 'admin@' || t.slug || '.bench';
ALTER TABLE bt ADD COLUMN quota bigint;
UPDATE bt SET quota = floor(:tickets * (1.0 / (k + 10)) / (SELECT sum(1.0 / (k + 10)) FROM bt));
UPDATE bt SET quota = quota + (:tickets - (SELECT sum(quota) FROM bt)) WHERE k = 0;
ALTER TABLE bt ADD COLUMN contacts int;
UPDATE bt SET contacts = greatest(200, quota / 5);

-- Six agents per tenant, a client admin in each client tenant; the tenant admin's argon2id hash
-- (made by the app) is the same password.
CREATE TEMP TABLE ba AS
SELECT bt.k, a AS n, pg_temp.uuid7((SELECT at FROM bench_start) - interval '10 days') AS id
FROM bt, generate_series(1, 6) a;
INSERT INTO users (id, tenant_id, email, name, role, password_hash, status, deactivated_at,
                   availability, password_changed_at, created_at, updated_at)
SELECT ba.id, bt.id, 'agent' || ba.n || '@' || bt.slug || '.bench', 'Agent ' || ba.n || ' of ' || bt.slug,
       'agent', bt.password_hash, 'active', NULL, 'on_shift', now(), now(), now()
FROM ba JOIN bt USING (k);
INSERT INTO users (id, tenant_id, email, name, role, password_hash, status, deactivated_at,
                   availability, password_changed_at, created_at, updated_at)
SELECT pg_temp.uuid7(now()), bt.id, 'client_admin@' || bt.slug || '.bench', 'Client admin of ' || bt.slug,
       'client_admin', bt.password_hash, 'active', NULL, 'on_shift', now(), now(), now()
FROM bt WHERE bt.kind = 'client';

-- Groups L1 (agents 1-4), L2 (agent 5), L3 (agent 6).
CREATE TEMP TABLE bg AS
SELECT bt.k, g AS n, pg_temp.uuid7((SELECT at FROM bench_start) - interval '10 days') AS id
FROM bt, generate_series(1, 3) g;
INSERT INTO groups (id, tenant_id, name, kind, description, created_at, updated_at)
SELECT bg.id, bt.id, (ARRAY['L1 support', 'L2 support', 'L3 engineering'])[bg.n],
       (ARRAY['l1', 'l2', 'l3'])[bg.n], NULL, now(), now()
FROM bg JOIN bt USING (k);
INSERT INTO group_members (tenant_id, group_id, user_id, created_at)
SELECT bt.id, bg.id, ba.id, now()
FROM ba JOIN bt USING (k)
JOIN bg ON bg.k = ba.k AND bg.n = CASE WHEN ba.n <= 4 THEN 1 WHEN ba.n = 5 THEN 2 ELSE 3 END;

-- 25 companies per tenant.
CREATE TEMP TABLE bc AS
SELECT bt.k, c AS n, pg_temp.uuid7((SELECT at FROM bench_start) - interval '5 days') AS id
FROM bt, generate_series(1, 25) c;
INSERT INTO companies (id, tenant_id, name, domains, tier, notes, created_at, updated_at)
SELECT bc.id, bt.id, 'University ' || bc.n || ' of ' || bt.slug,
       ('["u' || bc.n || '.' || bt.slug || '.test"]')::json,
       CASE WHEN bc.n % 10 = 0 THEN 'contracted' WHEN bc.n = 1 THEN 'dedicated' ELSE 'standard' END,
       NULL, now(), now()
FROM bc JOIN bt USING (k);

-- Contacts: one in 26 has no company; one in 7 also has a phone.
CREATE TEMP TABLE bp AS
SELECT bt.k, p AS n, pg_temp.uuid7((SELECT at FROM bench_start) - interval '1 day') AS id,
       bc.id AS company_id, bc.n AS company_n
FROM bt CROSS JOIN LATERAL generate_series(1, bt.contacts) p
LEFT JOIN bc ON bc.k = bt.k AND bc.n = p % 26;
INSERT INTO contacts (id, tenant_id, name, email, phone, whatsapp_id, telegram_id, locale,
                      time_zone, company_id, created_at, updated_at)
SELECT bp.id, bt.id, 'Student ' || bp.n,
       CASE WHEN bp.company_n IS NULL THEN 'user' || bp.n || '@mail.test'
            ELSE 'student' || bp.n || '@u' || bp.company_n || '.' || bt.slug || '.test' END,
       CASE WHEN bp.n % 7 = 0 THEN '+4420' || lpad(bp.n::text, 7, '0') END,
       NULL, NULL, 'en', NULL, bp.company_id, (SELECT at FROM bench_start), (SELECT at FROM bench_start)
FROM bp JOIN bt USING (k);
CREATE INDEX ON bp (k, n);
ANALYZE bp;

-- 200 tag sets of 0-3 distinct tags, as the app stores them: a compact JSON array.
CREATE TEMP TABLE bts AS
WITH names AS (
    SELECT ARRAY['exam', 'camera', 'login', 'microphone', 'browser', 'id-check', 'reschedule',
                 'refund', 'urgent-exam', 'certificate', 'screen-share', 'network', 'vip',
                 'mobile', 'accessibility'] AS tag
), picks AS (
    SELECT s.k, j, (SELECT tag FROM names)[1 + (s.k * (2 * j + 5) + j * 3) % 15] AS tag
    FROM generate_series(0, 199) s(k), generate_series(1, 3) j
    WHERE j <= s.k % 4
), firsts AS (
    SELECT k, tag, min(j) AS j FROM picks GROUP BY k, tag
)
SELECT s.k, '[' || coalesce(string_agg('"' || f.tag || '"', ',' ORDER BY f.j), '') || ']' AS tags
FROM generate_series(0, 199) s(k) LEFT JOIN firsts f ON f.k = s.k
GROUP BY s.k;

CREATE TEMP TABLE subjects (n int, subject text, description text);
INSERT INTO subjects VALUES
 (0, 'Camera not detected during exam', 'The proctoring app says no camera was found. I use a laptop with a built-in webcam and it works in other apps.'),
 (1, 'Cannot log in to the exam portal', 'I reset my password twice and still get an error when I sign in. My exam starts tomorrow morning.'),
 (2, 'Microphone check fails', 'The system check stops at the microphone step. I tried another headset, same result.'),
 (3, 'Request to reschedule my exam', 'I have a medical appointment at the time of my exam. Could you move it to next week?'),
 (4, 'Exam session was interrupted', 'My connection dropped in the middle of the exam and I could not get back in. What happens to my attempt?'),
 (5, 'ID verification rejected', 'The photo of my passport was rejected three times. The picture is sharp and well lit.'),
 (6, 'Screen sharing does not start', 'When I press share screen nothing happens. Browser is up to date.'),
 (7, 'Question about exam content', 'Question 14 of the statistics exam refers to a table that is not shown. Please forward to the organisers.'),
 (8, 'Refund for a cancelled exam', 'My exam was cancelled by the university. How do I get the fee back?'),
 (9, 'Certificate not received', 'I passed my exam two weeks ago but the certificate has not arrived yet.'),
 (10, 'Камера не работает во время экзамена', 'Приложение прокторинга не видит камеру, хотя в других программах она работает.'),
 (11, 'Не могу войти в личный кабинет', 'После смены пароля вход не проходит, экзамен начинается завтра утром.');

-- Tickets, tenant by tenant: number n is spread evenly over the 90 days (with jitter), so
-- numbers follow creation order. Status depends on age; the rest is drawn at random.
CREATE TEMP TABLE bticket AS
SELECT pg_temp.uuid7(x.created_at) AS id, x.*,
       CASE WHEN x.status = 'resolved' THEN x.created_at END AS resolved_at,
       CASE WHEN x.status = 'closed' THEN x.created_at END AS closed_at
FROM (
    SELECT r.k, r.tenant_id, r.admin_id, r.n AS number, r.created_at,
           CASE WHEN r.age < 2 THEN
                    CASE WHEN r.r1 < .50 THEN 'open' WHEN r.r1 < .75 THEN 'pending' WHEN r.r1 < .80 THEN 'on_hold'
                         WHEN r.r1 < .95 THEN 'resolved' ELSE 'closed' END
                WHEN r.age < 14 THEN
                    CASE WHEN r.r1 < .12 THEN 'open' WHEN r.r1 < .22 THEN 'pending' WHEN r.r1 < .27 THEN 'on_hold'
                         WHEN r.r1 < .60 THEN 'resolved' ELSE 'closed' END
                ELSE CASE WHEN r.r1 < .03 THEN 'open' WHEN r.r1 < .05 THEN 'pending' WHEN r.r1 < .06 THEN 'on_hold'
                          WHEN r.r1 < .20 THEN 'resolved' ELSE 'closed' END
           END AS status,
           CASE WHEN r.r2 < .30 THEN 'low' WHEN r.r2 < .75 THEN 'medium' WHEN r.r2 < .95 THEN 'high' ELSE 'urgent' END
               AS priority,
           (ARRAY['proctoring_status', 'exam_content', 'equipment_check', 'account', 'billing'])[1 + floor(r.r3 * 6)::int]
               AS ticket_type,
           (ARRAY['email', 'whatsapp', 'telegram', 'web', 'chatbot', 'api', 'phone'])[
               CASE WHEN r.r4 < .40 THEN 1 WHEN r.r4 < .55 THEN 2 WHEN r.r4 < .70 THEN 3 WHEN r.r4 < .85 THEN 4
                    WHEN r.r4 < .93 THEN 5 WHEN r.r4 < .98 THEN 6 ELSE 7 END] AS source,
           1 + floor(r.r5 * r.contacts)::int AS contact_n,
           CASE WHEN r.r6 < .70 THEN 1 WHEN r.r6 < .88 THEN 2 WHEN r.r6 < .95 THEN 3 END AS group_n,
           r.r7, floor(r.r8 * 200)::int AS tagset, floor(r.r9 * 12)::int AS subject_n,
           1000 + floor(r.r10 * 9000)::int AS exam, 1 + floor(r.r11 * 4)::int AS l1_agent
    FROM (
        SELECT bt.k, bt.id AS tenant_id, bt.admin_id, bt.contacts, n,
               created_at, extract(epoch FROM now() - created_at) / 86400 AS age,
               random() AS r1, random() AS r2, random() AS r3, random() AS r4, random() AS r5,
               random() AS r6, random() AS r7, random() AS r8, random() AS r9, random() AS r10,
               random() AS r11
        FROM bt CROSS JOIN LATERAL generate_series(1, bt.quota) n
        CROSS JOIN LATERAL (SELECT date_trunc('milliseconds', (SELECT at FROM bench_start)
                             + ((n - 1 + random()) / bt.quota) * interval '90 days') AS created_at) c
        OFFSET 0
    ) r
) x;

INSERT INTO tickets (id, tenant_id, number, subject, description, status, priority, ticket_type,
                     tags, source, requester_id, company_id, group_id, assignee_id, version,
                     created_at, updated_at, first_responded_at, resolved_at, closed_at,
                     merged_into_id, search_text, custom_fields)
SELECT b.id, b.tenant_id, b.number, s.subject || ' (EX-' || b.exam || ')', s.description, b.status,
       b.priority, b.ticket_type, ts.tags::json, b.source, p.id, p.company_id, g.id,
       CASE WHEN b.group_n IS NULL THEN NULL
            WHEN b.status = 'open' AND b.r7 < .40 THEN NULL
            WHEN b.status <> 'open' AND b.r7 < .05 THEN NULL
            ELSE a.id END,
       1, b.created_at, b.created_at, NULL, b.resolved_at, b.closed_at, NULL,
       lower(s.subject || ' (EX-' || b.exam || ')') || E'\n' || lower(s.description), '{}'
FROM bticket b
JOIN subjects s ON s.n = b.subject_n
JOIN bts ts ON ts.k = b.tagset
JOIN bp p ON p.k = b.k AND p.n = b.contact_n
LEFT JOIN bg g ON g.k = b.k AND g.n = b.group_n
LEFT JOIN ba a ON a.k = b.k AND a.n = CASE b.group_n WHEN 1 THEN b.l1_agent WHEN 2 THEN 5 ELSE 6 END
ORDER BY b.id;

-- What the writer records with each new ticket (keys in serde_json's order).
INSERT INTO ticket_activities (id, tenant_id, ticket_id, actor_type, actor_id, field, old_value,
                               new_value, created_at)
SELECT pg_temp.uuid7(t.created_at), t.tenant_id, t.id, 'user', b.admin_id, 'created', NULL,
       json_build_object('number', t.number, 'priority', t.priority, 'requester_id', t.requester_id,
                         'source', t.source, 'status', t.status, 'subject', t.subject),
       t.created_at
FROM tickets t JOIN bticket b ON b.id = t.id
ORDER BY t.id;

INSERT INTO ticket_counters (tenant_id, last_number)
SELECT tenant_id, max(number) FROM tickets GROUP BY tenant_id;

DROP TABLE bticket;
VACUUM ANALYZE;
-- The data set lives in RAM (or on SSD): random reads cost about what sequential ones do. With
-- the default 4.0 PostgreSQL prefers walking the primary key backwards over a (tenant_id, status,
-- id) index for a big tenant's closed tickets (~7 ms instead of ~0.3 ms), because it assumes
-- the matches are spread evenly while recent tickets are mostly still open.
-- (DBNAME is psql's own variable: the database it is connected to.)
ALTER DATABASE :"DBNAME" SET random_page_cost = 1.1;
