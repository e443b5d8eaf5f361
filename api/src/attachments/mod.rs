//! Files attached to a ticket's conversation: uploaded to a ticket, linked to the reply or
//! note that carries them, downloaded by agents; the bytes live behind a [`storage::Storage`].
pub mod dto;
pub mod routes;
pub mod service;
pub mod storage;
pub mod sweeper;
