//! Channels: the ways tickets reach a tenant and its replies leave (e-mail addresses, WhatsApp
//! Business numbers, Telegram bots, the web form, the API), with their settings and sealed
//! secrets.
pub mod domain;
pub mod dto;
pub mod routes;
pub mod service;
