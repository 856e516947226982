package deliverylog

import (
	"database/sql"
	"fmt"
	"time"

	"github.com/hookline/hookline"
	"github.com/hookline/hookline/unixnano"
)

// Buckets checks the window of DeliveryCounts, from since to now in
// buckets of the given length, and returns its buckets with their Start
// set (in UTC) and nothing counted yet. A since missing, out of range or
// after now, a bucket not longer than zero, or more than
// hookline.MaxDeliveryBuckets buckets is EINVALID naming "since" or
// "bucket".
//
// The engines count each bucket's deliveries by state with their own SQL,
// given the first bucket's start and the bucket's length in nanoseconds
// and the number of buckets, and hand the rows to ReadCounts.
func Buckets(since, now time.Time, bucket time.Duration) ([]hookline.DeliveryBucket, error) {
	var p hookline.Problems
	switch {
	case since.IsZero():
		p.Add("since", "is required")
	case !unixnano.InRange(since):
		p.Add("since", "is out of range")
	case since.After(now):
		p.Add("since", "is %s after now; counts start in the past", since.Sub(now).Round(time.Millisecond))
	}
	if bucket <= 0 {
		p.Add("bucket", "must be longer than zero, not %s", bucket)
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	n := int64(now.Sub(since)/bucket) + 1
	if n > hookline.MaxDeliveryBuckets {
		p.Add("bucket", "makes %d buckets of %s from since to now; at most %d are allowed: choose a longer bucket or a later since",
			n, bucket, hookline.MaxDeliveryBuckets)
		return nil, p.Err()
	}
	start := since.UTC()
	out := make([]hookline.DeliveryBucket, n)
	for i := range out {
		out[i].Start = start.Add(time.Duration(i) * bucket)
	}
	return out, nil
}

// ReadCounts reads rows of (bucket number, pending, delivered, failed,
// dead) into the buckets of out, which Buckets made, and closes rows. A
// bucket number outside out is an error.
func ReadCounts(rows *sql.Rows, out []hookline.DeliveryBucket) error {
	defer rows.Close()
	n := int64(len(out))
	for rows.Next() {
		var i int64
		var c hookline.DeliveryBucket
		if err := rows.Scan(&i, &c.Pending, &c.Delivered, &c.Failed, &c.Dead); err != nil {
			return err
		}
		if i < 0 || i >= n {
			return fmt.Errorf("bucket %d of %d", i, n)
		}
		c.Start = out[i].Start
		out[i] = c
	}
	return rows.Err()
}
