//! What the layer does with a request and its response, as pure functions returning small plan
//! values that the Tower plumbing (`service.rs`, `future.rs`) carries out, in the order of the
//! flow:
//!
//! 1. [`request`]: what to keep of a request to evaluate its response (`plan_request`), and what a
//!    validator source's report means before the inner service is called
//!    (`plan_with_source`);
//! 2. [`response`]: what to do with the inner service's response (`prepare_head`,
//!    `plan_response`), with the body read for its tag (`after_reading`), and the verdict of
//!    the preconditions on it (`verdict`);
//! 3. [`head`]: the edits that verdict makes to the response head (a 304, a 412, a coded tag).
//!
//! The arrows point one way: the plumbing calls these, these call the RFC primitives of
//! [`crate::rfc`], and nothing here knows of Tower.

pub(crate) mod head;
pub(crate) mod request;
pub(crate) mod response;
