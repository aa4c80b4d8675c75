//! Moderator links: stored by hash, found by hash, revoked for good.

use crate::{raw, school};
use lectern_store::Store;

#[tokio::test]
async fn a_link_is_found_by_its_hash_until_revoked_and_the_token_is_never_stored() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    let hash = [7u8; 32];
    let link = store
        .create_moderator_link("  Priya, TA ", hash, 1_000, 1_000 + 3_600_000)
        .await
        .unwrap();
    assert_eq!(link.label, "Priya, TA");
    assert!(link.is_active(2_000));
    assert!(
        !link.is_active(1_000 + 3_600_000),
        "expired at its expiry time"
    );

    let found = store.moderator_link_by_hash(hash).await.unwrap();
    assert_eq!(found.as_ref(), Some(&link));
    assert_eq!(store.moderator_link_by_hash([8u8; 32]).await.unwrap(), None);

    let revoked = store.revoke_moderator_link(link.id, 5_000).await.unwrap();
    assert_eq!(revoked.revoked_at_ms, Some(5_000));
    assert!(!revoked.is_active(6_000));
    let again = store.revoke_moderator_link(link.id, 9_000).await.unwrap();
    assert_eq!(
        again.revoked_at_ms,
        Some(5_000),
        "the first revocation stands"
    );
    assert_eq!(store.moderator_links().await.unwrap(), vec![again]);
    let err = store.revoke_moderator_link(999, 1).await.unwrap_err();
    assert_eq!(err.code(), "not_found");

    // A second link with the same hash is refused by the database, and nothing is half-added.
    let err = store
        .create_moderator_link("Copy", hash, 1_000, 2_000)
        .await
        .unwrap_err();
    assert!(!err.code().is_empty());
    assert_eq!(store.moderator_links().await.unwrap().len(), 1);
    store.close().await.unwrap();

    let stored: Vec<u8> = raw(&path)
        .query_row("SELECT token_hash FROM moderator_links", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, hash.to_vec());
}

#[tokio::test]
async fn bad_labels_and_expiries_are_refused() {
    let (_dir, path) = school();
    let store = Store::open(&path).unwrap();
    for (label, created, expires) in [("", 0, 10), ("   ", 0, 10), ("TA", 10, 10), ("TA", 10, 5)] {
        let err = store
            .create_moderator_link(label, [1u8; 32], created, expires)
            .await
            .unwrap_err();
        assert_eq!(err.code(), "invalid_input", "{label:?} {created} {expires}");
    }
    let long = "x".repeat(81);
    let err = store
        .create_moderator_link(&long, [1u8; 32], 0, 10)
        .await
        .unwrap_err();
    assert_eq!(err.code(), "invalid_input");
    assert!(store.moderator_links().await.unwrap().is_empty());
    store.close().await.unwrap();
}
