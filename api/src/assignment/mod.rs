//! Automatic assignment: a ticket that enters a group whose mode is not manual goes to an agent
//! of the group who is on shift, while the group's calendar is open. It has no endpoints of its
//! own; ticket creation and group changes call it.
pub mod service;
