package sqlite

import (
	"slices"
	"strings"
	"testing"
	"time"

	"starling/internal/seed"
	"starling/internal/social"
)

// followsIndexSQL returns the CREATE statement of every index of the
// follows table, by name (the primary key's automatic index has none).
func followsIndexSQL(t *testing.T, db *DB) map[string]string {
	t.Helper()
	rows, err := db.r.QueryContext(t.Context(), `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'follows' AND sql IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	m := map[string]string{}
	for rows.Next() {
		var name, sql string
		if err := rows.Scan(&name, &sql); err != nil {
			t.Fatal(err)
		}
		m[name] = strings.Join(strings.Fields(sql), " ")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestFollowIndexesMatchSchema keeps followIndexes, which bulk loading
// drops and builds again, equal to the indexes the migrations create.
func TestFollowIndexesMatchSchema(t *testing.T) {
	db := openDir(t, t.TempDir())
	got := followsIndexSQL(t, db)
	for _, ix := range followIndexes {
		want := "CREATE INDEX " + ix.name + " ON follows(" + ix.columns + ")"
		if got[ix.name] != want {
			t.Errorf("index %s: schema has %q, followIndexes rebuilds %q", ix.name, got[ix.name], want)
		}
	}
}

func keys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// TestLoadFollowsSetsIndexesAside checks that loading into an empty follows
// table drops the followee-led indexes until FinishLoad, and that loading
// into a table that has follows keeps them.
func TestLoadFollowsSetsIndexesAside(t *testing.T) {
	db := openDir(t, t.TempDir())
	all := followsIndexSQL(t, db)
	now := time.Now()
	var users []social.NewUser
	for _, login := range []string{"a", "b", "c"} {
		users = append(users, social.NewUser{Login: login, Name: login, PasswordHash: "h", Signup: now})
	}
	ids, err := db.LoadUsers(t.Context(), users)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.LoadFollows(t.Context(), []seed.Follow{{Follower: ids[0], Followee: ids[1], At: now}}); err != nil {
		t.Fatal(err)
	}
	if got := followsIndexSQL(t, db); len(got) != len(all)-len(followIndexes) {
		t.Errorf("during a load into an empty table, follows has indexes %v, want all of %v but followIndexes", keys(got), keys(all))
	}
	// Reads stay correct without the indexes.
	if f, err := db.Followers(t.Context(), ids[1], social.Page{Count: 10}); err != nil || !slices.Equal(f, ids[:1]) {
		t.Errorf("Followers during the load = %v, %v; want %v", f, err, ids[:1])
	}
	if err := db.FinishLoad(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := followsIndexSQL(t, db); len(got) != len(all) {
		t.Fatalf("after FinishLoad, follows has indexes %v, want all of %v back", keys(got), keys(all))
	}
	if err := db.LoadFollows(t.Context(), []seed.Follow{{Follower: ids[2], Followee: ids[1], At: now}}); err != nil {
		t.Fatal(err)
	}
	if got := followsIndexSQL(t, db); len(got) != len(all) {
		t.Errorf("during a load into a table with follows, follows has indexes %v, want all of %v kept", keys(got), keys(all))
	}
	if err := db.FinishLoad(t.Context()); err != nil {
		t.Fatal(err)
	}
	b, err := db.User(t.Context(), ids[1])
	if err != nil || b.Followers != 2 {
		t.Errorf("b after two loads: %+v, %v; want 2 followers", b, err)
	}
}
