package redis

import (
	"embed"
	"fmt"

	"github.com/redis/rueidis"
)

//go:embed lua/*.lua
var luaFiles embed.FS

// scripts holds the Lua scripts of every multi-key atomic step. Each is the
// shared prelude followed by one script body; rueidis runs it with EVALSHA
// and falls back to EVAL when the server has not seen it (after a restart,
// say), so nothing needs loading up front.
type scripts struct {
	createUser          *rueidis.Lua
	createStatus        *rueidis.Lua
	deleteStatus        *rueidis.Lua
	addToTimelines      *rueidis.Lua
	removeFromTimelines *rueidis.Lua
	refill              *rueidis.Lua
	follow              *rueidis.Lua
	unfollow            *rueidis.Lua
	followerChunk       *rueidis.Lua
	timelineBefore      *rueidis.Lua
	createList          *rueidis.Lua
	deleteList          *rueidis.Lua
	addListMember       *rueidis.Lua
	removeListMember    *rueidis.Lua
	enqueue             *rueidis.Lua
	claim               *rueidis.Lua
	complete            *rueidis.Lua
	completeMany        *rueidis.Lua
	retry               *rueidis.Lua
	bury                *rueidis.Lua
	stats               *rueidis.Lua
	revive              *rueidis.Lua
	dropDead            *rueidis.Lua
	statsByKind         *rueidis.Lua
}

// loadedScripts is built once: the texts are constant and a *rueidis.Lua is
// safe for concurrent use by any number of clients.
var loadedScripts = mustLoadScripts()

func mustLoadScripts() *scripts {
	prelude := mustRead("prelude")
	write := func(name string) *rueidis.Lua { return rueidis.NewLuaScript(prelude + mustRead(name)) }
	read := func(name string) *rueidis.Lua { return rueidis.NewLuaScriptReadOnly(prelude + mustRead(name)) }
	return &scripts{
		createUser:          write("create_user"),
		createStatus:        write("create_status"),
		deleteStatus:        write("delete_status"),
		addToTimelines:      write("add_to_timelines"),
		removeFromTimelines: write("remove_from_timelines"),
		refill:              write("refill"),
		follow:              write("follow"),
		unfollow:            write("unfollow"),
		followerChunk:       read("follower_chunk"),
		timelineBefore:      read("timeline_before"),
		createList:          write("create_list"),
		deleteList:          write("delete_list"),
		addListMember:       write("add_list_member"),
		removeListMember:    write("remove_list_member"),
		enqueue:             write("enqueue"),
		claim:               write("claim"),
		complete:            write("complete"),
		completeMany:        write("complete_many"),
		retry:               write("retry"),
		bury:                write("bury"),
		stats:               read("stats"),
		revive:              write("revive"),
		dropDead:            write("drop"),
		statsByKind:         read("stats_by_kind"),
	}
}

func mustRead(name string) string {
	b, err := luaFiles.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic(fmt.Sprintf("redis: embedded script %s: %v", name, err)) // the files are compiled in
	}
	return string(b) + "\n"
}
