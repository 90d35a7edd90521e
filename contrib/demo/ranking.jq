# Ranks the users of the demo's enriched JSON lines (scripts/demo.sh runs it).
#
#   jq -n -c --rawfile roster sim/roster.csv -f contrib/demo/ranking.jq enriched.json
#
# One pass over every line; lines without "risk" (messages the module did not score) are
# skipped. Per user: the highest user_score reached and its user_level (the first time it was
# reached), the number of scored events and of events whose own level was high or critical,
# and per rule the reason with the most points (the first one, on a tie). Output: one JSON
# array, sorted by that highest user_score, ties by more high/critical events, then by name:
#   [{"rank", "user", "team", "user_score", "user_level", "events", "high_events",
#     "reasons": [{"rule", "points", "detail"}, ...strongest first]}, ...]
# "team" comes from the roster (null for accounts outside it, e.g. names a scanner tried);
# the simulator writes no quoted CSV fields, so a plain split is enough.

($roster | split("\n") | map(select(length > 0) | split(","))) as $rows
| ($rows[0] | index("user")) as $uc
| ($rows[0] | index("team")) as $tc
| (reduce $rows[1:][] as $r ({}; .[$r[$uc] | ascii_downcase] = $r[$tc])) as $team
| reduce (inputs | .risk // empty | select(.user)) as $r ({};
	.[$r.user] |= ((. // {events: 0, high_events: 0, user_score: -1, reasons: {}})
		| .events += 1
		| if $r.level == "high" or $r.level == "critical" then .high_events += 1 else . end
		| if $r.user_score > .user_score
		  then .user_score = $r.user_score | .user_level = $r.user_level else . end
		| reduce ($r.reasons // [])[] as $x (.;
			if $x.points > (.reasons[$x.rule].points // -1)
			then .reasons[$x.rule] = $x else . end)))
| to_entries
| map(.value + {user: .key, team: ($team[.key] // null),
	reasons: ([.value.reasons[]] | sort_by(-.points, .rule))})
| sort_by(-.user_score, -.high_events, .user)
| to_entries
| map({rank: (.key + 1), user: .value.user, team: .value.team} + .value)
