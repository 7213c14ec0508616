//! `admission.k8s.io/v1` `AdmissionReview` in and out, on `kube-core`'s types.
//!
//! The request envelope is parsed in one pass, with `object` and `oldObject` kept as raw JSON
//! ([`RawObject`]): only the kinds a rule reads are parsed again, into their `k8s-openapi` type.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube_core::admission::{AdmissionRequest, AdmissionResponse};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;

pub use kube_core::admission::Operation;

/// An object of an admission request, unparsed.
#[derive(Debug, Clone)]
pub struct RawObject {
    raw: Box<RawValue>,
    meta: ObjectMeta,
}

impl RawObject {
    pub fn json(&self) -> &str {
        self.raw.get()
    }

    /// The object as `T`; `None` when it is not one (a malformed object is the requester's
    /// problem: the API server has already validated it, so this only happens with hand-made
    /// reviews, which are then judged without it).
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.raw.get())
    }
}

impl<'de> Deserialize<'de> for RawObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        Ok(RawObject {
            raw,
            meta: ObjectMeta::default(),
        })
    }
}

impl Serialize for RawObject {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.raw.serialize(s)
    }
}

impl kube_core::Resource for RawObject {
    type DynamicType = ();
    type Scope = kube_core::DynamicResourceScope;

    fn kind(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("")
    }
    fn group(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("")
    }
    fn version(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("")
    }
    fn plural(_: &()) -> Cow<'_, str> {
        Cow::Borrowed("")
    }
    fn meta(&self) -> &ObjectMeta {
        &self.meta
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.meta
    }
}

/// The admission request as parsed.
pub type Request = AdmissionRequest<RawObject>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Envelope {
    #[serde(default)]
    api_version: String,
    #[serde(default)]
    kind: String,
    request: Option<Request>,
}

/// Why a body is not an AdmissionReview we can answer (HTTP 400).
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("malformed AdmissionReview: {0}")]
    Json(#[from] serde_json::Error),
    #[error(
        "not an admission.k8s.io/v1 AdmissionReview (apiVersion `{api_version}`, kind `{kind}`)"
    )]
    NotAReview { api_version: String, kind: String },
    #[error("AdmissionReview without a request")]
    NoRequest,
}

/// Parse a request body.
pub fn parse(body: &[u8]) -> Result<Request, ReviewError> {
    let env: Envelope = serde_json::from_slice(body)?;
    if env.api_version != "admission.k8s.io/v1" || env.kind != "AdmissionReview" {
        return Err(ReviewError::NotAReview {
            api_version: env.api_version,
            kind: env.kind,
        });
    }
    env.request.ok_or(ReviewError::NoRequest)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResponseEnvelope<'a> {
    api_version: &'static str,
    kind: &'static str,
    response: &'a AdmissionResponse,
}

/// The response body for `resp`.
pub fn response_body(resp: &AdmissionResponse) -> Vec<u8> {
    serde_json::to_vec(&ResponseEnvelope {
        api_version: "admission.k8s.io/v1",
        kind: "AdmissionReview",
        response: resp,
    })
    .unwrap_or_else(|_| b"{}".to_vec())
}

/// An allowing response for `req`, with warnings when there are any.
pub fn allow(req: &Request, warnings: Vec<String>) -> AdmissionResponse {
    let mut r = AdmissionResponse::from(req);
    if !warnings.is_empty() {
        r.warnings = Some(warnings);
    }
    r
}

/// A denying response for `req`: HTTP-style code 403, reason `Forbidden`, as the API server's
/// own authorization failures; the message goes to the user verbatim.
pub fn deny(req: &Request, message: String, warnings: Vec<String>) -> AdmissionResponse {
    let mut r = AdmissionResponse::from(req).deny(message);
    r.result.code = 403;
    r.result.reason = "Forbidden".to_owned();
    if !warnings.is_empty() {
        r.warnings = Some(warnings);
    }
    r
}
