//! The per-request authentication path, piece by piece: JWT verification, the revocation check
//! against the node's own deny-list, and building a scope filter; plus one argon2id verification
//! for scale.
//!
//!     cargo bench -p api --bench auth
#![allow(clippy::unwrap_used, clippy::expect_used)]

use api::auth::jwt::{Claims, ISSUER, KeyRing};
use api::auth::password::PasswordHasher;
use api::auth::revocation::Revocations;
use criterion::{Criterion, criterion_group, criterion_main};
use migration::MigratorTrait;
use secrecy::SecretString;
use std::hint::black_box;
use std::time::Duration;
use tenants::{Caller, Reach, Scope};
use uuid::Uuid;

fn bench_auth(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (keys, revocations) = runtime.block_on(async {
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        migration::Migrator::up(&db, None).await.unwrap();
        let kek = std::sync::Arc::new(api::auth::key_encryption::KeyEncryptionKey::from_bytes(
            [7; 32],
        ));
        let keys = KeyRing::load(
            &db,
            Duration::from_secs(900),
            kek,
            api::clock::Clock::system(),
        )
        .await
        .unwrap();
        let revocations = Revocations::new(
            api::clock::Clock::system(),
            api::events::bus::EventBus::in_process(),
            Duration::from_secs(900),
            None,
        );
        revocations.sync(&db).await.unwrap();
        (keys, revocations)
    });
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: Uuid::now_v7(),
        tid: Uuid::now_v7(),
        sid: Uuid::now_v7(),
        role: "agent".into(),
        scopes: vec!["tickets:read".into(), "tickets:write".into()],
        jti: Uuid::now_v7(),
        iat: now,
        nbf: now,
        exp: now + 900,
        iss: ISSUER.into(),
        email: "agent@partner.example".into(),
        name: "Agent".into(),
    };
    let token = keys.sign(&claims).unwrap();

    // A token this node has verified before (every request after a session's first).
    c.bench_function("jwt_verify", |b| {
        b.iter(|| keys.verify(black_box(&token)).unwrap())
    });
    // A token seen for the first time: the Ed25519 signature check itself.
    c.bench_function("jwt_verify_first_sight", |b| {
        b.iter_batched(
            || {
                let mut fresh = claims.clone();
                fresh.jti = Uuid::now_v7();
                keys.sign(&fresh).unwrap()
            },
            |fresh| keys.verify(black_box(&fresh)).unwrap(),
            criterion::BatchSize::SmallInput,
        )
    });
    c.bench_function("jwt_sign", |b| {
        b.iter(|| keys.sign(black_box(&claims)).unwrap())
    });
    c.bench_function("revocation_check_local", |b| {
        b.iter(|| revocations.check(black_box(&claims)).unwrap())
    });
    #[allow(clippy::disallowed_methods)] // a scope to measure, no request behind it
    let scope = Scope::for_caller(
        Caller::AccessToken,
        claims.tid,
        format!("/{}/{}/", Uuid::now_v7().simple(), claims.tid.simple()),
        Reach::Subtree,
    );
    c.bench_function("scope_condition_subtree", |b| {
        b.iter(|| black_box(scope.condition(entity::user::Column::TenantId)))
    });

    let hasher = PasswordHasher::new(19_456, 2, 1).unwrap();
    let stored = runtime
        .block_on(hasher.hash(SecretString::from("correct-horse-battery")))
        .unwrap();
    let mut group = c.benchmark_group("argon2id");
    group.sample_size(10);
    group.bench_function("verify_owasp_params", |b| {
        b.iter(|| {
            runtime
                .block_on(hasher.verify(
                    SecretString::from("correct-horse-battery"),
                    Some(stored.clone()),
                ))
                .unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_auth);
criterion_main!(benches);
