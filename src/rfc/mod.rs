//! The rules of RFC 9110 the layer is made of, each in one home and none aware of Tower: entity
//! tags and their lists ([`etag`]), single header fields ([`fields`]), the evaluation of
//! preconditions ([`precondition`], §13.2.2), `If-Range` ([`range`], §13.1.5), what a response
//! carries of its representation ([`representation`]), generated tags ([`hash`]), and the
//! problem details of the answers made instead of the handler's ([`problem`], RFC 9457).

pub(crate) mod etag;
pub(crate) mod fields;
pub(crate) mod hash;
pub(crate) mod precondition;
pub(crate) mod problem;
pub(crate) mod range;
pub(crate) mod representation;
