# expand-types.awk — compile a liblognorm v2 rulebase's user-defined types away.
#
#   awk -f expand-types.awk SOURCE.rulebase > COMPILED.rulebase
#
# Why: liblognorm up to 2.0.6 (Debian 12) leaks the partial JSON object of a user-defined
# type (type=@name:...) every time the type is tried and does not match (liblognorm issue
# #223, fixed after 2.0.6). Every message that reaches such a type and fails leaks ~256
# bytes, so inside rsyslogd memory grows with traffic. Authors keep writing types — they make
# rulebases readable — and the build turns them into constructs that do not leak:
#
#  * a type whose bodies are all plain text (e.g. " : " / ", ") becomes an inline
#    {"type":"alternative"} of literal parsers;
#  * a type whose bodies are each one field, %..:parser%, becomes an inline alternative of
#    those parsers, named after the field that uses the type (%src_ip:@addr% -> src_ip);
#  * anything else (a body mixing text and fields) is expanded: the rule is copied once per
#    body. Nested types expand the same way, so keep such types few and short.
# Inline *sequences* inside alternatives are avoided on purpose: in 2.0.6 they break
# backtracking (a matching IPv6 address after them fails).
#
# Works with mawk and gawk (no recursion, no gawk extensions).

function json_str(s) {
	gsub(/\\/, "\\\\", s)
	gsub(/"/, "\\\"", s)
	return "\"" s "\""
}
# plain text body: no field, "%%" is an escaped percent sign
function is_text(b,   t) { t = b; gsub(/%%/, "", t); return index(t, "%") == 0 }
function is_field(b) { return b ~ /^%\.\.:[^%]+%$/ }
# "%..:string{"a":1}%" -> {"type":"string","a":1,"name":NAME}; no name for "-" (2.0.6 then
# rejects some parsers' parameters with a misleading "invalid param" error)
function field_parser(b, name,   spec, p, params, named) {
	spec = substr(b, 5, length(b) - 5)
	named = name == "-" ? "" : ",\"name\":" json_str(name)
	p = index(spec, "{")
	if (p == 0)
		return "{\"type\":" json_str(spec) named "}"
	params = substr(spec, p + 1, length(spec) - p - 1)
	return "{\"type\":" json_str(substr(spec, 1, p - 1)) "," params named "}"
}
function inline_alt(tname, field,   i, b, list, outer, inner) {
	outer = (field == "-" || field == ".") ? "-" : ".."
	inner = (field == "." ) ? "-" : field
	list = ""
	for (i = 1; i <= ntypes[tname]; i++) {
		b = types[tname, i]
		if (kind[tname] == "text") {
			gsub(/%%/, "%", b)
			list = list (i > 1 ? "," : "") "{\"type\":\"literal\",\"text\":" json_str(b) "}"
		} else {
			list = list (i > 1 ? "," : "") field_parser(b, inner == "-" ? "-" : inner)
		}
	}
	return "%{\"name\":\"" outer "\",\"type\":\"alternative\",\"parser\":[" list "]}%"
}

/^type=@/ {
	n = index($0, ":")
	tname = substr($0, 7, n - 7)
	types[tname, ++ntypes[tname]] = substr($0, n + 1)
	next
}
/^rule=/ {
	if (!classified) {
		for (k in ntypes) {
			kind[k] = "text"
			for (i = 1; i <= ntypes[k]; i++) {
				if (!is_text(types[k, i])) kind[k] = "field"
			}
			if (kind[k] == "field")
				for (i = 1; i <= ntypes[k]; i++)
					if (!is_field(types[k, i])) kind[k] = "expand"
		}
		classified = 1
	}
	n = index($0, ":")
	head = substr($0, 1, n)
	# where the author wrote it: tools print this when a sample line fails
	src = FILENAME
	sub(/^.*\//, "", src)
	printf "#@ %s:%d\n", src, FNR
	top = 0
	work[++top] = substr($0, n + 1)
	while (top > 0) {
		body = work[top--]
		if (!match(body, /%[^%:{]*:@[A-Za-z0-9_]+%/)) {
			print head body
			rules++
			continue
		}
		tok = substr(body, RSTART, RLENGTH)
		pre = substr(body, 1, RSTART - 1)
		post = substr(body, RSTART + RLENGTH)
		field = substr(tok, 2, index(tok, ":") - 2)
		tname = substr(tok, index(tok, ":@") + 2)
		tname = substr(tname, 1, length(tname) - 1)
		if (!(tname in ntypes)) {
			printf "expand-types: %s:%d: undefined type @%s\n", FILENAME, FNR, tname > "/dev/stderr"
			failed = 1
			exit 1
		}
		if (kind[tname] != "expand") {
			work[++top] = pre inline_alt(tname, field) post
			continue
		}
		# push in reverse so the output keeps the bodies' order
		for (i = ntypes[tname]; i >= 1; i--) {
			b = types[tname, i]
			if (field != "-" && field != "." && is_field(b))
				b = "%" field substr(b, 4)
			work[++top] = pre b post
		}
	}
	next
}
{ print }
END {
	if (!failed)
		printf "# %d rules after expanding user-defined types (rulebase/expand-types.awk)\n", rules
}
