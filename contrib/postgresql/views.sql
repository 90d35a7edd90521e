-- mmriskscore → PostgreSQL: the views and functions an analyst uses directly.
--
--   psql -v ON_ERROR_STOP=1 -d mmrisk -f views.sql        (after schema.sql; safe to rerun)
--
--   SELECT * FROM mmrisk.riskiest_users_24h;              -- who to look at today
--   SELECT * FROM mmrisk.riskiest_users_7d LIMIT 20;      -- this week
--   SELECT * FROM mmrisk.user_timeline('jdoe');           -- what jdoe did, in order, and why it scored
--   SELECT * FROM mmrisk.shared_source_ips_7d;            -- one address, several accounts
--   SELECT * FROM mmrisk.riskiest_users('30 days');       -- any window
--
-- TIME WINDOWS ARE RELATIVE TO THE NEWEST EVENT IN THE TABLE, not to now(): "the last 24
-- hours" means the 24 hours before max(event_time). Live, that is the last 24 hours; after
-- replaying last month's logs it is the last day of the replay, so the views answer the same
-- way for historical data. One device with a clock far in the future would move the window:
-- pass the end explicitly then, e.g. mmrisk.riskiest_users('24 hours', now()).

-- The end of every default window.
CREATE OR REPLACE FUNCTION mmrisk.newest_event_time() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
	SELECT max(event_time) FROM mmrisk.risk_events
$$;

-- Users ranked by their highest accumulated risk (user_score) within the window, with the
-- three reasons that weighed most (highest points, then most frequent) and an example detail.
--   rank              1 = riskiest; ties share a rank
--   peak_user_score   highest user_score of the user's events in the window; peak_user_level its level
--   last_user_score   user_score after the user's newest event in the window (it decays over time)
--   events            scored events of the user in the window; flagged_events those with a reason
--   max_event_score   the highest single-event score
--   top_reasons       [{"rule","hits","max_points","detail"}], at most three
--   reasons_text      the same in one line: "network.laptop_farm x12 (75), time.timezone_mismatch x9 (52)"
-- Users whose score stayed 0 in the window are not listed.
CREATE OR REPLACE FUNCTION mmrisk.riskiest_users(p_window interval, p_end timestamptz DEFAULT NULL)
RETURNS TABLE (
	rank             bigint,
	user_name        text,
	peak_user_score  real,
	peak_user_level  text,
	last_user_score  real,
	last_user_level  text,
	events           bigint,
	flagged_events   bigint,
	max_event_score  real,
	first_seen       timestamptz,
	last_seen        timestamptz,
	top_reasons      jsonb,
	reasons_text     text,
	window_start     timestamptz,
	window_end       timestamptz)
LANGUAGE sql STABLE AS $$
	WITH bounds AS (
		SELECT coalesce(p_end, mmrisk.newest_event_time()) AS t1
	), w AS (
		SELECT e.id, e.user_name, e.event_time, e.score, e.user_score, e.user_level, e.reasons
		FROM mmrisk.risk_events e, bounds b
		WHERE e.event_time > b.t1 - p_window AND e.event_time <= b.t1
	), per_user AS (
		SELECT w.user_name,
		       max(w.user_score) AS peak,
		       count(*) AS events,
		       count(*) FILTER (WHERE w.score > 0) AS flagged,
		       max(w.score) AS max_score,
		       min(w.event_time) AS first_seen,
		       max(w.event_time) AS last_seen
		FROM w GROUP BY w.user_name
		HAVING max(w.user_score) > 0
	), peak_ev AS (
		SELECT DISTINCT ON (w.user_name) w.user_name, w.user_level
		FROM w ORDER BY w.user_name, w.user_score DESC, w.event_time DESC, w.id DESC
	), last_ev AS (
		SELECT DISTINCT ON (w.user_name) w.user_name, w.user_score, w.user_level
		FROM w ORDER BY w.user_name, w.event_time DESC, w.id DESC
	), by_rule AS (
		SELECT w.user_name, r ->> 'rule' AS rule, count(*) AS hits,
		       max((r ->> 'points')::real) AS max_points,
		       (array_agg(r ->> 'detail' ORDER BY (r ->> 'points')::real DESC, w.event_time DESC))[1] AS detail
		FROM w CROSS JOIN LATERAL jsonb_array_elements(w.reasons) AS r
		WHERE jsonb_typeof(w.reasons) = 'array'
		GROUP BY w.user_name, r ->> 'rule'
	), ranked_rules AS (
		SELECT b.*, row_number() OVER (PARTITION BY b.user_name
		                               ORDER BY b.max_points DESC, b.hits DESC, b.rule) AS n
		FROM by_rule b
	), top AS (
		SELECT rr.user_name,
		       jsonb_agg(jsonb_build_object('rule', rr.rule, 'hits', rr.hits,
		                                    'max_points', rr.max_points, 'detail', rr.detail)
		                 ORDER BY rr.n) AS top_reasons,
		       string_agg(rr.rule || ' x' || rr.hits || ' (' || rr.max_points || ')', ', '
		                  ORDER BY rr.n) AS reasons_text
		FROM ranked_rules rr WHERE rr.n <= 3
		GROUP BY rr.user_name
	)
	SELECT rank() OVER (ORDER BY p.peak DESC, p.max_score DESC),
	       p.user_name, p.peak, pe.user_level, le.user_score, le.user_level,
	       p.events, p.flagged, p.max_score, p.first_seen, p.last_seen,
	       coalesce(t.top_reasons, '[]'::jsonb), t.reasons_text,
	       b.t1 - p_window, b.t1
	FROM per_user p
	JOIN peak_ev pe USING (user_name)
	JOIN last_ev le USING (user_name)
	LEFT JOIN top t USING (user_name)
	CROSS JOIN bounds b
	ORDER BY 1, p.user_name
$$;

CREATE OR REPLACE VIEW mmrisk.riskiest_users_24h AS
	SELECT * FROM mmrisk.riskiest_users(interval '24 hours');
CREATE OR REPLACE VIEW mmrisk.riskiest_users_7d AS
	SELECT * FROM mmrisk.riskiest_users(interval '7 days');

-- Every scored event with the columns an analyst reads first; rules = the reasons' rule ids.
--   SELECT * FROM mmrisk.timeline WHERE user_name = 'jdoe' ORDER BY event_time, id;
CREATE OR REPLACE VIEW mmrisk.timeline AS
	SELECT e.id, e.event_time, e.user_name, e.action, e.outcome, e.src_ip, e.geo_country,
	       e.as_org, e.target, e.device, e.score, e.level, e.user_score, e.user_level,
	       e.learning,
	       (SELECT string_agg(r ->> 'rule', ',' ORDER BY o)
	        FROM jsonb_array_elements(CASE WHEN jsonb_typeof(e.reasons) = 'array'
	                                       THEN e.reasons ELSE '[]'::jsonb END)
	             WITH ORDINALITY AS x(r, o)) AS rules,
	       e.risk_message, e.reasons, e.log_host, e.program
	FROM mmrisk.risk_events e;

-- One user's events in time order (oldest first). p_user is the entity key ($!risk!user);
-- a differently-cased name is tried in lower case too. p_window limits it to the window
-- before p_end (default: the newest event in the table); NULL = everything.
CREATE OR REPLACE FUNCTION mmrisk.user_timeline(p_user text, p_window interval DEFAULT NULL,
                                                p_end timestamptz DEFAULT NULL)
RETURNS SETOF mmrisk.timeline
LANGUAGE sql STABLE AS $$
	SELECT t.* FROM mmrisk.timeline t
	WHERE t.user_name IN (p_user, lower(p_user))
	  AND (p_window IS NULL OR
	       t.event_time > coalesce(p_end, mmrisk.newest_event_time()) - p_window)
	  AND (p_end IS NULL OR t.event_time <= p_end)
	ORDER BY t.event_time, t.id
$$;

-- External addresses from which several accounts signed in successfully within the window:
-- the laptop-farm pattern, and also office egress, shared flats, hotel Wi-Fi. Addresses that
-- are private, loopback, link-local or CGNAT are left out (the module treats them as
-- internal). corporate = the address is in mmrisk.corporate_networks; those sort last.
--   flagged_rules     the shared-IP rules the module raised from this address
--                     (network.shared_source_ip, network.laptop_farm)
CREATE OR REPLACE FUNCTION mmrisk.shared_source_ips(p_window interval, p_end timestamptz DEFAULT NULL,
                                                    p_min_users integer DEFAULT 2)
RETURNS TABLE (
	src_ip          inet,
	users           bigint,
	user_names      text[],
	events          bigint,
	first_seen      timestamptz,
	last_seen       timestamptz,
	max_event_score real,
	flagged_rules   text[],
	corporate       boolean,
	window_start    timestamptz,
	window_end      timestamptz)
LANGUAGE sql STABLE AS $$
	WITH bounds AS (
		SELECT coalesce(p_end, mmrisk.newest_event_time()) AS t1
	), w AS (
		SELECT e.* FROM mmrisk.risk_events e, bounds b
		WHERE e.event_time > b.t1 - p_window AND e.event_time <= b.t1
		  AND e.src_ip IS NOT NULL AND e.outcome = 'success'
		  AND NOT (e.src_ip << inet '10.0.0.0/8' OR e.src_ip << inet '172.16.0.0/12'
		           OR e.src_ip << inet '192.168.0.0/16' OR e.src_ip << inet '100.64.0.0/10'
		           OR e.src_ip << inet '127.0.0.0/8' OR e.src_ip << inet '169.254.0.0/16'
		           OR e.src_ip << inet 'fc00::/7' OR e.src_ip << inet 'fe80::/10'
		           OR e.src_ip = inet '::1')
	), per_ip AS (
		SELECT w.src_ip,
		       count(DISTINCT w.user_name) AS users,
		       array_agg(DISTINCT w.user_name ORDER BY w.user_name) AS user_names,
		       count(*) AS events,
		       min(w.event_time) AS first_seen,
		       max(w.event_time) AS last_seen,
		       max(w.score) AS max_score
		FROM w GROUP BY w.src_ip
		HAVING count(DISTINCT w.user_name) >= p_min_users
	)
	SELECT p.src_ip, p.users, p.user_names, p.events, p.first_seen, p.last_seen, p.max_score,
	       (SELECT array_agg(DISTINCT r ->> 'rule' ORDER BY r ->> 'rule')
	        FROM w CROSS JOIN LATERAL jsonb_array_elements(w.reasons) AS r
	        WHERE w.src_ip = p.src_ip AND jsonb_typeof(w.reasons) = 'array'
	          AND r ->> 'rule' IN ('network.shared_source_ip', 'network.laptop_farm')),
	       EXISTS (SELECT 1 FROM mmrisk.corporate_networks c WHERE p.src_ip <<= c.network),
	       b.t1 - p_window, b.t1
	FROM per_ip p CROSS JOIN bounds b
	ORDER BY 9, p.users DESC, p.max_score DESC, p.src_ip
$$;

CREATE OR REPLACE VIEW mmrisk.shared_source_ips_24h AS
	SELECT * FROM mmrisk.shared_source_ips(interval '24 hours');
CREATE OR REPLACE VIEW mmrisk.shared_source_ips_7d AS
	SELECT * FROM mmrisk.shared_source_ips(interval '7 days');

GRANT SELECT ON mmrisk.riskiest_users_24h, mmrisk.riskiest_users_7d, mmrisk.timeline,
	mmrisk.shared_source_ips_24h, mmrisk.shared_source_ips_7d TO mmrisk_reader;
GRANT EXECUTE ON FUNCTION mmrisk.newest_event_time(), mmrisk.riskiest_users(interval, timestamptz),
	mmrisk.user_timeline(text, interval, timestamptz),
	mmrisk.shared_source_ips(interval, timestamptz, integer) TO mmrisk_reader;
