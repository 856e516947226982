-- Leases of the processes that hold deliveries (deliveries.owner): each
-- replica renews its row while it runs, and ClaimDue passes over the
-- deliveries of an owner whose lease is live. An owner with no row, or
-- with one that has expired, has stopped or crashed, and what it held is
-- anyone's. One row per running replica, a few more for crashed ones until
-- they are pruned: the claim reads the table whole.
CREATE TABLE delivery_owners (
    owner      text COLLATE "C" NOT NULL PRIMARY KEY CHECK (owner <> ''),
    -- Unix nanoseconds of the clock of the replica that renewed it.
    expires_at bigint NOT NULL
);
