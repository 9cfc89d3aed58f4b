-- The start-up scan for webhook deliveries to resume (status 'pending', oldest first) reads
-- only those, however long the delivery log grows. A partial index would be smaller, but
-- this one is the same statement on both engines.

-- +goose Up
CREATE INDEX webhook_deliveries_status ON webhook_deliveries (status, created_at);

-- +goose Down
DROP INDEX webhook_deliveries_status;
