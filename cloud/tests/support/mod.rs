//! Helpers shared by the cloud crate's integration tests. Each test binary uses only part of
//! them, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod ecr;
pub mod moto;
