package sqlite

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

// scanAllowed lists the full scans a statement may make: table-valued
// functions over its own arguments, CTEs it builds, the jobs table for
// Stats, which counts every job by design, walks of an index in its order
// that stop at a LIMIT (dead letters, the most recently active chat rooms),
// and suspended_users, all of which SuspendedUsers reads by design.
var scanAllowed = regexp.MustCompile(`^SCAN ((json_each|j|CONSTANT ROW|sources|floors|d|doomed)( |$)|jobs$|suspended_users$|dead_jobs USING (COVERING )?INDEX |chat_rooms USING INDEX chat_rooms_recent$)`)

// TestStatementsUseIndexes checks every prepared statement's query plan:
// none may walk a whole table, which would make its cost grow with the
// data instead of with the rows it touches.
func TestStatementsUseIndexes(t *testing.T) {
	db := openDir(t, t.TempDir())
	for _, q := range append(append([]string{}, writeQueries...), readQueries...) {
		rows, err := db.w.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, placeholderArgs(q)...)
		if err != nil {
			t.Errorf("EXPLAIN %s: %v", q, err)
			continue
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatalf("reading plan: %v", err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN ") && !scanAllowed.MatchString(step) {
				t.Errorf("statement scans a table (%s):\n%s\nplan:\n  %s",
					step, strings.Join(strings.Fields(q), " "), strings.Join(plan, "\n  "))
			}
		}
	}
}

// placeholderArgs returns one argument per parameter of q, numbered (?N)
// or not.
func placeholderArgs(q string) []any {
	n := len(regexp.MustCompile(`\?\d`).FindAllString(q, -1))
	if n > 0 {
		n = 0
		for i := 1; strings.Contains(q, fmt.Sprintf("?%d", i)); i++ {
			n = i
		}
	} else {
		n = strings.Count(q, "?")
	}
	args := make([]any, n)
	for i := range args {
		args[i] = 1
	}
	return args
}
