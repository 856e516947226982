-- Idempotency keys are unique per source, not across all of them: a key is
-- the sender's name for an alert, and two senders name their alerts
-- independently. Without this, an API caller's key could take the key the
-- Alertmanager receiver derives for one of its alerts, and that alert would
-- be answered as a duplicate and never delivered. Every key unique before is
-- unique per source, so the new index cannot fail on stored rows.
DROP INDEX alerts_idempotency_key;
CREATE UNIQUE INDEX alerts_source_idempotency_key ON alerts (source, idempotency_key) WHERE idempotency_key IS NOT NULL;
