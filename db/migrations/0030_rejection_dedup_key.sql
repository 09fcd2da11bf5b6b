-- A rejection of a message that carries a message_id gets a key: the hash of (message_id, reason,
-- detail, raw text, and which identical copy within the message it is). A redelivery after a crash
-- between COMMIT and ack then writes nothing new (the publisher SDK stamps every message with a
-- UUID). Messages without a message_id keep no key (NULLs never collide): two identical bad
-- messages from a device are two rejections, as before.
ALTER TABLE rejected_measures ADD COLUMN dedup_key BINARY(20) NULL;
ALTER TABLE rejected_measures ADD UNIQUE KEY rejected_measures_dedup (dedup_key);
