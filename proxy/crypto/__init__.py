"""Envelope encryption of per-user data: data keys wrapped by a key-encryption key (KEK).

* ``keys``: the :class:`~proxy.crypto.keys.KeyProvider` interface and its file and environment
  implementations (the KEK never enters the database).
* ``envelope``: AES-256-GCM with associated data binding every ciphertext to its tenant, user,
  table, row, column and key version; data key creation, crypto-shredding and ``rotate_kek``.
* ``subjects``: the keyed HMAC that stands for a user id in every table.
"""
