//! Indexes for word search and exact tags on PostgreSQL (SQLite reads the rows; its tenants are
//! small).
//!
//! Word search matches every word of `q` with `search_text LIKE '%word%'`. A B-tree cannot answer
//! a pattern with a leading wildcard, so a client tenant's 40,000 tickets were all read for each
//! search; a trigram GIN index (`pg_trgm`) answers `LIKE`/`ILIKE` with a wildcard on both sides
//! for words of three characters or more, and several words combine as a bitmap AND. A tag
//! filter asks whether the JSON array contains the tag (`tags::jsonb @> '["tag"]'`), which a GIN
//! index on the same expression answers.
//!
//! `pg_trgm` ships with PostgreSQL (contrib) and is a trusted extension since PostgreSQL 13, so
//! the database owner may create it; where it is not installed the search index is skipped and
//! search still works, only slower.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SEARCH_INDEX: &str = "idx_tickets_search_text_trgm";
const TAGS_INDEX: &str = "idx_tickets_tags_jsonb";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        db.execute_unprepared(&format!(
            "CREATE INDEX IF NOT EXISTS {TAGS_INDEX} ON tickets USING gin ((tags::jsonb) jsonb_path_ops)"
        ))
        .await?;
        let available = db
            .query_one_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'",
            ))
            .await?
            .is_some();
        if available {
            db.execute_unprepared("CREATE EXTENSION IF NOT EXISTS pg_trgm")
                .await?;
            db.execute_unprepared(&format!(
                "CREATE INDEX IF NOT EXISTS {SEARCH_INDEX} ON tickets USING gin (search_text gin_trgm_ops)"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {SEARCH_INDEX}"))
            .await?;
        db.execute_unprepared(&format!("DROP INDEX IF EXISTS {TAGS_INDEX}"))
            .await?;
        Ok(())
    }
}
