//! Requesters: the students and employees who write in, identified per tenant by e-mail,
//! phone, WhatsApp or Telegram id.
pub mod dto;
pub mod routes;
pub mod service;
