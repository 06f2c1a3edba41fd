//! Who is calling and what they may do: accounts (customers and staff,
//! passwords, sign-in and its throttling), sessions (signed tokens), roles,
//! and the access table every route consults.

pub mod access;
pub mod accounts;
pub mod auth;
pub mod customers;
pub mod role;
