//! AWS objects as the `aws` CLI prints them (botocore shapes). Every field is optional or
//! defaulted so that partial or older outputs still load; unknown fields are ignored.

pub mod ec2;
pub mod ecr;
pub mod eks;
pub mod emr;
pub mod iam;
pub mod misc;
pub mod usage;

pub use iam::PolicyDocument;
