package bench

import (
	"testing"
	"time"
)

func TestParseDelivery(t *testing.T) {
	for _, tc := range []struct {
		frame string
		seq   int64
		ns    int64
		ok    bool
	}{
		{`{"id":9,"uid":1,"login":"a","message":"bench 42 1700000000123456789 grp3","posted":"x"}` + "\r\n", 42, 1700000000123456789, true},
		{`data: {"id":9,"message":"bench 0 5 grp0"}`, 0, 5, true},
		{`{"id":9,"message":"hello"}`, 0, 0, false},
		{`{"message":"bench x 5"}`, 0, 0, false},
		{`{"message":"bench 5"}`, 0, 0, false},
	} {
		seq, sent, ok := parseDelivery([]byte(tc.frame))
		if ok != tc.ok || ok && (seq != tc.seq || !sent.Equal(time.Unix(0, tc.ns))) {
			t.Errorf("parseDelivery(%s) = %d, %v, %v; want %d, %d, %v", tc.frame, seq, sent.UnixNano(), ok, tc.seq, tc.ns, tc.ok)
		}
	}
}
