package ports

import (
	"reflect"
	"strings"
	"testing"
)

func TestListening(t *testing.T) {
	table := `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1388 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 111 1 0000000000000000 100 0 0 10 0
   1: 00000000:1388 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 222 1 0000000000000000 20 4 30 10 -1
   2: 00000000:1389 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 333 1 0000000000000000 100 0 0 10 0
   3: 00000000000000000000000000000000:1388 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 444 1 0 100 0 0 10 0
`
	got := listening(strings.NewReader(table), 5000)
	want := []socket{{inode: "111", uid: "1000"}, {inode: "444", uid: "0"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("listening(5000) = %+v, want %+v", got, want)
	}
}
