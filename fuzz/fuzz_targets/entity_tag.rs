//! `EntityTag::parse` on arbitrary bytes, against the grammar of RFC 9110 §8.8.3.
#![no_main]

mod reference;

use http::HeaderValue;
use libfuzzer_sys::fuzz_target;
use tower_conditional::EntityTag;

fuzz_target!(|data: &[u8]| {
    let trimmed = reference::trim_ows(data);
    let expected = reference::entity_tag(trimmed);
    match (EntityTag::parse(data), expected) {
        (Ok(tag), Some((weak, opaque))) => {
            assert_eq!(tag.is_weak(), weak);
            assert_eq!(tag.opaque(), opaque);
            assert_eq!(HeaderValue::from(&tag).as_bytes(), trimmed);
            assert!(tag.weak_eq(&tag));
            assert_eq!(tag.strong_eq(&tag), !weak);
            // Display and FromStr round-trip for UTF-8 tags.
            if std::str::from_utf8(trimmed).is_ok() {
                let again: EntityTag = tag.to_string().parse().unwrap();
                assert_eq!(again, tag);
            }
        }
        (Err(_), None) => {}
        (parsed, expected) => panic!("{data:?}: parse {parsed:?}, grammar {expected:?}"),
    }
    // The constructors take the opaque part alone.
    if let Ok(text) = std::str::from_utf8(data) {
        let valid = data.iter().all(|&b| reference::is_etagc(b));
        for (tag, weak) in [
            (EntityTag::strong(text), false),
            (EntityTag::weak(text), true),
        ] {
            match tag {
                Ok(tag) => {
                    assert!(valid);
                    assert_eq!(tag.opaque(), data);
                    assert_eq!(tag.is_weak(), weak);
                }
                Err(_) => assert!(!valid),
            }
        }
    }
});
