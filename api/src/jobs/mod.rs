//! Bulk jobs: one request changes many tickets and/or sends each of them a reply rendered for
//! its requester. The request is accepted at once (`202`), its tickets are written down as job
//! items, and a background runner on any node works them in chunks under a lease, so a job
//! whose node dies resumes elsewhere without sending any reply twice.
pub mod dto;
pub mod routes;
pub mod runner;
pub mod service;
