//! emrguard's model: the contract's vocabulary, findings, the typed snapshot of an EMR on EKS
//! estate (AWS and Kubernetes objects, each with its source location), and the estate index the
//! rules query.

pub mod aws;
pub mod collect;
pub mod finding;
pub mod index;
pub mod k8s;
pub mod kind;
pub mod node;
pub mod release;
pub mod snapshot;
pub mod source;
pub mod vocab;

pub use finding::{Finding, FindingBuilder, GrantRef, Location, PathStep, Ref, Subject};
pub use index::EstateIndex;
pub use kind::Kind;
pub use snapshot::Snapshot;
pub use source::{Located, SourceLoc};
pub use vocab::{Capability, Practice, Severity};
