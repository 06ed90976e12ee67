"""C2SP signed notes and checkpoints: Go's published example verifies byte for byte; tampering fails."""

from __future__ import annotations

import base64

import pytest

from proxy.audit import merkle
from proxy.audit.checkpoint import open_checkpoint, sign_checkpoint
from proxy.audit.note import NoteError, Signer, Verifier, open_note

# golang.org/x/mod/sumdb/note's documented example key and signature
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_SIG = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"


def test_go_note_example_signs_and_verifies_identically() -> None:
    signer = Signer.parse(GO_SKEY)
    assert signer.verifier.text() == GO_VKEY
    assert signer.text() == GO_SKEY
    note = signer.sign(GO_TEXT)
    assert note == GO_TEXT + "\n" + GO_SIG
    text, by = open_note(note, [Verifier.parse(GO_VKEY)])
    assert text == GO_TEXT and by.name == "PeterNeumann"
    assert "key hidden" in repr(signer) and "AYEK" not in repr(signer)


def test_altered_notes_and_unknown_keys_are_refused() -> None:
    signer = Signer.generate("bedside-test")
    note = signer.sign("hello\n")
    with pytest.raises(NoteError, match="does not verify"):
        open_note(note.replace("hello", "hallo"), [signer.verifier])
    other = Signer.generate("bedside-test")
    with pytest.raises(NoteError, match="no known key"):
        open_note(note, [other.verifier])
    with pytest.raises(NoteError):
        open_note("hello\n", [signer.verifier])  # no signature block
    with pytest.raises(NoteError, match="key id"):
        Verifier.parse("PeterNeumann+00000000+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")


def test_checkpoint_format_and_verification() -> None:
    signer = Signer.generate("bedside.example/audit")
    root = merkle.root_of([merkle.leaf_hash(b"x")])
    cp = sign_checkpoint(signer, "bedside.example/audit", 1, root)
    lines = cp.note.split("\n")
    assert lines[:4] == ["bedside.example/audit", "1", base64.b64encode(root).decode(), ""]
    assert lines[4].startswith("— bedside.example/audit ")
    opened = open_checkpoint(cp.note, [signer.verifier], "bedside.example/audit")
    assert (opened.size, opened.root) == (1, root)
    with pytest.raises(NoteError, match="not 'other'"):
        open_checkpoint(cp.note, [signer.verifier], "other")
    forged = cp.note.replace("\n1\n", "\n2\n", 1)
    with pytest.raises(NoteError, match="does not verify"):
        open_checkpoint(forged, [signer.verifier])
