# The demo's table and ground-truth footer (scripts/demo.sh runs it).
#
#   jq -r --argjson cols 120 --argjson top 10 --slurpfile truth sim/truth.json \
#      -f contrib/demo/report.jq ranking.json
#
# Input: the array contrib/demo/ranking.jq writes. Prints the first $top users with their two
# strongest reasons, then where each actor of the simulator's truth.json ranked and who else
# is in the top $top. Lines are fitted to $cols characters (0: never cut): the strongest
# reason of a user is wrapped onto two lines, anything longer is cut with "...".

def cut($room): if $room > 20 and length > $room then .[0:$room - 3] + "..." else . end;
# words into lines of at most $room characters, at most $max lines (the last one cut)
def wrap($room; $max):
	if $room <= 20 then [.]
	else reduce (split(" ")[] | select(length > 0)) as $wd ([""];
		if .[-1] == "" then .[-1] = $wd
		elif (.[-1] | length) + 1 + ($wd | length) <= $room then .[-1] += " " + $wd
		else . + [$wd] end)
	| (.[0:$max - 1] + [.[$max - 1:] | join(" ")]) | map(select(. != "") | cut($room))
	end;
def plural($n; $word): "\($n) \($word)" + (if $n == 1 then "" else "s" end);
def pad($n): tostring | . + ([range(0; $n - length)] | map(" ") | join(""));
def lpad($n): tostring | ([range(0; $n - length)] | map(" ") | join("")) + .;
def names: map(.user) | join(", ");

. as $all
| $truth[0] as $t
| $all[0:$top] as $rows
| (reduce $all[] as $u ({}; .[$u.user] = $u)) as $by
| (reduce $t.actors[] as $a ({}; .[$a.user | ascii_downcase] = $a)) as $actor
| (reduce $t.confounders[] as $c ({}; .[$c.user | ascii_downcase] += [$c.kind])) as $kinds
| ([$rows[].user, $t.actors[].user, "USER"] | map(length) | max) as $w
| (4 + 2 + $w + 2 + 5 + 2 + 8 + 2) as $indent
| def row(r; u; s; l): "\(r | lpad(4))  \(u | pad($w))  \(s | lpad(5))  \(l | pad(8))  ";
  def kinds: "\(.user) (\($kinds[.user] | unique | join(", ")))";

  row("RANK"; "USER"; "SCORE"; "LEVEL") + "TEAM",
  ($rows[]
	| row(.rank; .user; .user_score; .user_level) + (.team // "(not in the roster)"),
	  (.reasons[0:2] | to_entries[] | (if .key == 0 then 2 else 1 end) as $lines
	   | "+\(.value.points) \(.value.rule): \(.value.detail)" | wrap($cols - 8; $lines)
	   | to_entries[] | (if .key == 0 then "      " else "        " end) + .value)),
  (if ($rows | length) == 0
   then "  (no message was scored: check the rulebase and the internal log)" else empty end),
  "",
  "SCORE, LEVEL: the highest accumulated risk (user_score, 0-100) the user reached; ties go",
  "to more events of level high or critical. Under each user: its two strongest reasons.",
  "",
  "Ground truth: the \($t.actors | length) actors the simulator planted (truth.json), as ranked among \($all | length) users:",
  ([$t.actors[] | ($by[.user | ascii_downcase] // {}) as $u
	| {rank: ($u.rank // 1e9), user: (.user | ascii_downcase), score: ($u.user_score // "-"),
	   level: ($u.user_level // "unseen"), scenario, notes}]
   | sort_by(.rank, .user) as $list
   | $list | to_entries[] | .key as $i | .value
   | row(if .rank == 1e9 then "-" else .rank end; .user; .score; .level)
	+ (if any($list[0:$i][]; .scenario == $list[$i].scenario) then .scenario
	   else "\(.scenario): \(.notes)" | wrap($cols - $indent; 2)
		| .[0] + (.[1:] | map("\n" + ("" | pad($indent)) + .) | join("")) end)),
  "",
  ($rows | map(select($actor[.user])) | length) as $nact
  | ($rows | map(select(($actor[.user] | not) and $kinds[.user]))) as $conf
  | ($rows | map(select(($actor[.user] | not) and ($kinds[.user] | not) and .team))) as $emp
  | ($rows | map(select(($actor[.user] | not) and ($kinds[.user] | not) and (.team | not)))) as $out
  | "Top \($rows | length): " + (if $nact == ($t.actors | length) and $nact > 0 then "all \($nact)"
	else "\($nact) of \($t.actors | length)" end) + " planted actors, "
	+ plural(($rows | length) - $nact; "false positive"),
  (if ($conf | length) > 0
   then "        \(plural($conf | length; "legitimate look-alike")): \($conf | map(kinds) | join(", "))"
	| cut($cols)
   else ([$all[] | select(($actor[.user] | not) and $kinds[.user])][0]
	| "        no legitimate look-alike"
	  + (if . then "; the best-ranked one is \(kinds), rank \(.rank)" else "" end)) end),
  (if ($emp | length) > 0
   then "        \(plural($emp | length; "other employee")): \($emp | names)" | cut($cols)
   else empty end),
  (if ($out | length) > 0
   then "        \(plural($out | length; "account")) outside the roster: \($out | names)" | cut($cols)
   else empty end)
