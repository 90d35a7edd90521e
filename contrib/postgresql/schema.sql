-- mmriskscore → PostgreSQL: the table rsyslog's ompgsql writes scored identity events into.
--
--   psql -v ON_ERROR_STOP=1 -d mmrisk -f schema.sql     (then views.sql)
--
-- Everything lives in schema "mmrisk". Safe to run again (IF NOT EXISTS / OR REPLACE).
-- PostgreSQL 11 or later (generated identity columns, jsonb_path_ops); tested with 15.
--
-- rsyslog sends one statement per scored message (contrib/postgresql/rsyslog-pgsql.conf):
--
--   SELECT mmrisk.ingest('{"reported":…,"received":…,"host":…,"program":…,"msg":…,
--                          "risk":{…$!risk…},"event":{…$!event…}}')
--
-- one JSON document, escaped by rsyslog's option.stdsql (quotes doubled; PostgreSQL's
-- standard_conforming_strings, on by default, keeps backslashes literal, so JSON escapes
-- arrive intact). mmrisk.ingest() types the fields into columns. A document that cannot be
-- typed (an address that is not an inet, ...) is kept in mmrisk.ingest_errors with the
-- reason instead of failing the statement: a failed statement would make ompgsql retry and
-- roll back the other messages of its transaction.
--
-- Roles: mmrisk_writer may only call mmrisk.ingest() (give it to the account rsyslog logs
-- in with); mmrisk_reader may read the table and the views (analysts, dashboards):
--
--   CREATE ROLE rsyslog LOGIN PASSWORD '…' IN ROLE mmrisk_writer;
--   CREATE ROLE analyst LOGIN PASSWORD '…' IN ROLE mmrisk_reader;

CREATE SCHEMA IF NOT EXISTS mmrisk;

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mmrisk_writer') THEN
		CREATE ROLE mmrisk_writer NOLOGIN;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'mmrisk_reader') THEN
		CREATE ROLE mmrisk_reader NOLOGIN;
	END IF;
END
$$;

-- One row per scored message. Column names follow rulebase/SCHEMA.md (canonical event) and
-- README.md ("What a scored message carries"); user, group and host are SQL keywords or
-- ambiguous, hence user_name, vpn_group, log_host.
CREATE TABLE IF NOT EXISTS mmrisk.risk_events (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	-- when: the event time the module scored with (time in the log body, else the syslog
	-- header's); received_at is rsyslog's clock when the message arrived
	event_time   timestamptz NOT NULL,
	received_at  timestamptz NOT NULL,
	log_host     text,                    -- the device that logged the event
	program      text,                    -- syslog tag's program name (sshd, okta, …)
	-- who, what
	user_name    text NOT NULL,           -- $!risk!user: the normalized entity key
	user_raw     text,                    -- the account as logged, when it differs
	action       text NOT NULL,           -- auth, mfa, vpn_start, vpn_end, vpn_stats, ip_assigned,
	                                      -- sso, privilege, account, logout
	outcome      text NOT NULL,           -- success, failure, unknown
	src_ip       inet,
	src_port     integer,
	assigned_ip  inet,
	target       text,
	device       text,
	user_agent   text,
	auth_method  text,
	mfa_factor   text,
	vpn_group    text,
	session_id   text,
	reason       text,
	bytes_in     bigint,                  -- received by the user's client (download)
	bytes_out    bigint,                  -- sent by the user's client (upload)
	duration_s   double precision,        -- session length in seconds
	geo_country  text,                    -- as the source says it (Okta: a name, Entra: a code)
	geo_city     text,
	as_number    bigint,
	as_org       text,
	is_proxy     boolean,
	-- the risk ($!risk)
	score        real NOT NULL,           -- 0-100, this event
	level        text NOT NULL,           -- unknown < 20 ≤ low < 40 ≤ moderate < 70 ≤ high < 90 ≤ critical
	user_score   real NOT NULL,           -- 0-100, the user's accumulated risk after this event
	user_level   text NOT NULL,
	learning     boolean NOT NULL,        -- the user's own baseline has not converged yet
	reasons      jsonb NOT NULL DEFAULT '[]',   -- [{"rule","points","detail"}], strongest first
	risk_message text,                    -- user, level and the top three reasons in one line
	event        jsonb NOT NULL,          -- the whole canonical event ($!event), lossless
	message      text,                    -- the log message as received
	CONSTRAINT risk_events_level_ck CHECK (level IN ('unknown', 'low', 'moderate', 'high', 'critical')),
	CONSTRAINT risk_events_user_level_ck CHECK (user_level IN ('unknown', 'low', 'moderate', 'high', 'critical'))
);

-- a user's timeline, the riskiest-users windows
CREATE INDEX IF NOT EXISTS risk_events_user_time_idx ON mmrisk.risk_events (user_name, event_time);
-- time windows ("the last 24 hours before the newest event")
CREATE INDEX IF NOT EXISTS risk_events_time_idx ON mmrisk.risk_events (event_time);
-- shared source IPs
CREATE INDEX IF NOT EXISTS risk_events_src_ip_time_idx ON mmrisk.risk_events (src_ip, event_time)
	WHERE src_ip IS NOT NULL;
-- "every event with rule X": WHERE reasons @> '[{"rule": "network.laptop_farm"}]'
CREATE INDEX IF NOT EXISTS risk_events_reasons_idx ON mmrisk.risk_events USING gin (reasons jsonb_path_ops);

-- Documents mmrisk.ingest() could not type, with the reason. Expected to stay empty.
CREATE TABLE IF NOT EXISTS mmrisk.ingest_errors (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	failed_at   timestamptz NOT NULL DEFAULT now(),
	error       text NOT NULL,
	doc         text NOT NULL
);

-- Networks many users legitimately share (office NAT egress, VPN address pools): the
-- shared-source-IP views mark them. Fill it like the module's corporate-networks.txt.
CREATE TABLE IF NOT EXISTS mmrisk.corporate_networks (
	network     cidr PRIMARY KEY,
	note        text
);

-- The one entry point for rsyslog. SECURITY DEFINER: the writer role needs no rights on the
-- tables, and a document can only ever become one row.
CREATE OR REPLACE FUNCTION mmrisk.ingest(doc text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	d jsonb;
	e jsonb;
	r jsonb;
BEGIN
	BEGIN
		d := doc::jsonb;
		e := coalesce(d -> 'event', '{}'::jsonb);
		r := d -> 'risk';
		IF r IS NULL OR jsonb_typeof(r) <> 'object' THEN
			RAISE EXCEPTION 'document has no "risk" object';
		END IF;
		INSERT INTO mmrisk.risk_events (
			event_time, received_at, log_host, program,
			user_name, user_raw, action, outcome,
			src_ip, src_port, assigned_ip, target, device, user_agent, auth_method, mfa_factor,
			vpn_group, session_id, reason, bytes_in, bytes_out, duration_s,
			geo_country, geo_city, as_number, as_org, is_proxy,
			score, level, user_score, user_level, learning, reasons, risk_message,
			event, message)
		VALUES (
			coalesce(nullif(e ->> 'event_time', ''), d ->> 'reported')::timestamptz,
			coalesce(nullif(d ->> 'received', '')::timestamptz, now()),
			coalesce(e ->> 'host', d ->> 'host'),
			d ->> 'program',
			r ->> 'user',
			e ->> 'user_raw',
			e ->> 'action',
			coalesce(e ->> 'outcome', 'unknown'),
			(e ->> 'src_ip')::inet,
			(e ->> 'src_port')::integer,
			(e ->> 'assigned_ip')::inet,
			e ->> 'target',
			e ->> 'device',
			e ->> 'user_agent',
			e ->> 'auth_method',
			e ->> 'mfa_factor',
			e ->> 'group',
			e ->> 'session_id',
			e ->> 'reason',
			(e ->> 'bytes_in')::bigint,
			(e ->> 'bytes_out')::bigint,
			(e ->> 'duration')::double precision,
			e ->> 'geo_country',
			e ->> 'geo_city',
			(e ->> 'as_number')::bigint,
			e ->> 'as_org',
			(e ->> 'is_proxy')::boolean,
			(r ->> 'score')::real,
			r ->> 'level',
			(r ->> 'user_score')::real,
			r ->> 'user_level',
			coalesce((r ->> 'learning')::boolean, false),
			coalesce(r -> 'reasons', '[]'::jsonb),
			r ->> 'message',
			e,
			d ->> 'msg');
	EXCEPTION WHEN others THEN
		INSERT INTO mmrisk.ingest_errors (error, doc) VALUES (SQLSTATE || ': ' || SQLERRM, doc);
	END;
END
$$;

REVOKE ALL ON FUNCTION mmrisk.ingest(text) FROM PUBLIC;
GRANT USAGE ON SCHEMA mmrisk TO mmrisk_writer, mmrisk_reader;
GRANT EXECUTE ON FUNCTION mmrisk.ingest(text) TO mmrisk_writer;
GRANT SELECT ON mmrisk.risk_events, mmrisk.ingest_errors, mmrisk.corporate_networks TO mmrisk_reader;
