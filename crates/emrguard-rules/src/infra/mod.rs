//! Shared support for the infrastructure rules (endpoint access, image updates, node and pod
//! credentials, tenant isolation): the compiled-in release and registry data, and the joins and
//! judgements several of those rules make.

pub mod creds;
pub mod data;
pub mod docker;
pub mod fargate;
pub mod imds;
pub mod jobs;
pub mod net;
