-- Bronze layer: cases, the four raw-response tables, the transformation error log, the
-- value parsers every trigger shares, and the promotion machinery.
--
-- Rules this file enforces for every source:
--   * the raw payload always commits: promotion runs per case inside its own
--     sub-transaction, and a failure becomes a row in transformation_errors;
--   * the same payload twice is stored once (a repeat of the latest payload for the case is
--     skipped), so re-ingestion changes nothing in any layer;
--   * two sessions ingesting one case are serialised by a transaction advisory lock.

-- ---------------------------------------------------------------------------------------
-- Cases: one identity from bronze to gold, the upstream (Logiqs) case id, a string of digits.
CREATE TABLE IF NOT EXISTS public.cases (
    case_id     text PRIMARY KEY,
    case_number text,
    client_name text,
    status_code text NOT NULL DEFAULT 'NEW',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT cases_case_id_digits CHECK (case_id ~ '^[0-9]{1,12}$')
);

CREATE OR REPLACE FUNCTION public.ensure_case(p_case_id text)
RETURNS text LANGUAGE sql AS $$
    INSERT INTO public.cases (case_id) VALUES (p_case_id) ON CONFLICT (case_id) DO NOTHING;
    SELECT p_case_id;
$$;

-- ---------------------------------------------------------------------------------------
-- Transformation errors: what could not be promoted, never silently dropped.
CREATE TABLE IF NOT EXISTS public.transformation_errors (
    id          bigserial PRIMARY KEY,
    layer       text NOT NULL CONSTRAINT transformation_errors_layer_check CHECK (layer IN ('silver', 'gold')),
    table_name  text NOT NULL,
    bronze_id   uuid,
    case_id     text,
    sqlstate    text,
    message     text NOT NULL,
    context     text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS transformation_errors_case_idx ON public.transformation_errors (case_id, created_at DESC);

CREATE OR REPLACE FUNCTION public.record_transformation_error(
    p_layer text, p_table text, p_bronze_id uuid, p_case_id text, p_sqlstate text, p_message text,
    p_context text DEFAULT NULL)
RETURNS void LANGUAGE sql AS $$
    INSERT INTO public.transformation_errors (layer, table_name, bronze_id, case_id, sqlstate, message, context)
    VALUES (p_layer, p_table, p_bronze_id, p_case_id, p_sqlstate, p_message, p_context);
$$;

-- ---------------------------------------------------------------------------------------
-- Value parsers. They never raise: an unreadable value becomes NULL.

-- A JSON scalar as trimmed text; JSON null, '' and containers give NULL.
-- plpgsql: as SQL it is inlined only when its argument is cheap, and it is mostly called on
-- md_pick(...) results, where the non-inlined SQL call cost ~5x the plpgsql one.
CREATE OR REPLACE FUNCTION public.md_text(v jsonb)
RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    CASE jsonb_typeof(v)
        WHEN 'string' THEN RETURN nullif(btrim(v #>> '{}'), '');
        WHEN 'number', 'boolean' THEN RETURN v #>> '{}';
        ELSE RETURN NULL;
    END CASE;
END
$$;

-- The payload as a plain in-memory value. A bronze payload over ~2 kB is stored compressed,
-- and a compressed jsonb is decompressed again on every access: the loaders read theirs up to
-- hundreds of times, so they take it through this once (#> '{}' returns the decompressed whole).
CREATE OR REPLACE FUNCTION public.md_detoast(p jsonb)
RETURNS jsonb LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT p #> '{}';
$$;

-- The first key (or dotted path, e.g. 'Issuer.Name') of obj with a non-empty value.
-- plpgsql rather than SQL: these parsers run thousands of times per case, and a SQL function
-- with a FROM clause is not inlined, so each call would pay the SQL-function executor.
CREATE OR REPLACE FUNCTION public.md_pick(obj jsonb, keys text[])
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    key text;
    value jsonb;
BEGIN
    IF jsonb_typeof(obj) IS DISTINCT FROM 'object' THEN
        RETURN NULL;
    END IF;
    FOREACH key IN ARRAY keys LOOP
        IF strpos(key, '.') > 0 THEN
            value := obj #> string_to_array(key, '.');
        ELSE
            value := obj -> key;
        END IF;
        IF value IS NOT NULL AND jsonb_typeof(value) <> 'null'
           AND NOT (jsonb_typeof(value) = 'string' AND btrim(value #>> '{}') = '') THEN
            RETURN value;
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;

-- Money and other numbers: 1234.5, "1234.5", "$1,234.56", "(500.00)" (= -500), "-$20", " 12 ".
CREATE OR REPLACE FUNCTION public.md_numeric(v jsonb)
RETURNS numeric LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    s text;
BEGIN
    CASE jsonb_typeof(v)
        WHEN 'number' THEN RETURN (v #>> '{}')::numeric;
        WHEN 'string' THEN s := regexp_replace(v #>> '{}', '[\s$,]', '', 'g');
        ELSE RETURN NULL;
    END CASE;
    IF s ~ '^-?[0-9]+(\.[0-9]+)?$' THEN
        RETURN s::numeric;
    ELSIF s ~ '^\(-?[0-9]+(\.[0-9]+)?\)$' THEN
        RETURN -(btrim(s, '()')::numeric);
    ELSIF s ~ '^-?\.[0-9]+$' THEN
        RETURN replace(s, '.', '0.')::numeric;
    END IF;
    RETURN NULL;
END
$$;

-- Dates: ISO (with or without a time), MM-DD-YYYY, MM/DD/YYYY, YYYYMMDD. Impossible dates give NULL.
CREATE OR REPLACE FUNCTION public.md_date(v jsonb)
RETURNS date LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    s text := public.md_text(v);
    parts text[];
    y int;
    m int;
    d int;
BEGIN
    IF s IS NULL THEN
        RETURN NULL;
    END IF;
    parts := regexp_match(s, '^(\d{4})-(\d{1,2})-(\d{1,2})');
    IF parts IS NOT NULL THEN
        y := parts[1]; m := parts[2]; d := parts[3];
    ELSE
        parts := regexp_match(s, '^(\d{1,2})[-/](\d{1,2})[-/](\d{4})$');
        IF parts IS NOT NULL THEN
            m := parts[1]; d := parts[2]; y := parts[3];
        ELSE
            parts := regexp_match(s, '^(\d{4})(\d{2})(\d{2})$');
            IF parts IS NULL THEN
                RETURN NULL;
            END IF;
            y := parts[1]; m := parts[2]; d := parts[3];
        END IF;
    END IF;
    IF y BETWEEN 1900 AND 2200 AND m BETWEEN 1 AND 12
       AND d BETWEEN 1 AND extract(day FROM make_date(y, m, 1) + interval '1 month - 1 day') THEN
        RETURN make_date(y, m, d);
    END IF;
    RETURN NULL;
END
$$;

-- Tax years: 2023, "2023", "Tax Year 2023", "TY2023", "12/31/2023". "Unknown" gives NULL.
CREATE OR REPLACE FUNCTION public.md_year(v jsonb)
RETURNS integer LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    y int;
BEGIN
    IF jsonb_typeof(v) = 'number' AND (v #>> '{}') ~ '^\d{4}(\.0+)?$' THEN
        y := floor((v #>> '{}')::numeric);
    ELSIF jsonb_typeof(v) = 'string' THEN
        y := substring(v #>> '{}' FROM '(?:^|\D)((?:19|20)\d{2})(?:\D|$)');
    END IF;
    IF y BETWEEN 1950 AND 2100 THEN
        RETURN y;
    END IF;
    RETURN NULL;
END
$$;

-- Booleans: true/false, "true", "YES"/"NO", "Y"/"N", "1"/"0", "Filed"/"Unfiled"/"Not filed".
CREATE OR REPLACE FUNCTION public.md_bool(v jsonb)
RETURNS boolean LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    RETURN CASE
        WHEN jsonb_typeof(v) = 'boolean' THEN (v #>> '{}')::boolean
        WHEN jsonb_typeof(v) = 'number' THEN (v #>> '{}')::numeric <> 0
        WHEN lower(public.md_text(v)) IN ('true', 't', 'yes', 'y', '1', 'filed', 'on') THEN true
        WHEN lower(public.md_text(v)) IN ('false', 'f', 'no', 'n', '0', 'unfiled', 'not filed', 'off') THEN false
    END;
END
$$;

-- ---------------------------------------------------------------------------------------
-- Bronze tables: the payload exactly as received, append-only history.
DO $$
DECLARE
    src text;
BEGIN
    FOREACH src IN ARRAY ARRAY['at', 'wi', 'trt', 'interview'] LOOP
        EXECUTE format($f$
            CREATE TABLE IF NOT EXISTS public.%1$I (
                bronze_id      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
                case_id        text NOT NULL REFERENCES public.cases (case_id) ON DELETE CASCADE,
                raw_response   jsonb NOT NULL,
                api_source     text NOT NULL DEFAULT %2$L,
                api_endpoint   text,
                payload_hash   text NOT NULL,
                dagster_run_id text,
                -- clock_timestamp, not now(): rows of one transaction keep their order
                inserted_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
                -- arrival order, the tie-breaker that decides which row is a case's latest
                ingest_seq     bigint GENERATED ALWAYS AS IDENTITY
            )$f$, 'bronze_' || src || '_raw', CASE src WHEN 'interview' THEN 'casehelper' ELSE 'tiparser' END);
        EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON public.%I (case_id, ingest_seq DESC)',
                       'bronze_' || src || '_raw_case_idx', 'bronze_' || src || '_raw');
    END LOOP;
END
$$;

-- The payload hash of a case's latest bronze row. Static SQL per table (plan cached) rather than
-- one EXECUTE, which was re-planned for every inserted row.
CREATE OR REPLACE FUNCTION public.bronze_latest_hash(p_table text, p_case_id text)
RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    CASE p_table
        WHEN 'bronze_at_raw' THEN
            RETURN (SELECT payload_hash FROM public.bronze_at_raw WHERE case_id = p_case_id ORDER BY ingest_seq DESC LIMIT 1);
        WHEN 'bronze_wi_raw' THEN
            RETURN (SELECT payload_hash FROM public.bronze_wi_raw WHERE case_id = p_case_id ORDER BY ingest_seq DESC LIMIT 1);
        WHEN 'bronze_trt_raw' THEN
            RETURN (SELECT payload_hash FROM public.bronze_trt_raw WHERE case_id = p_case_id ORDER BY ingest_seq DESC LIMIT 1);
        WHEN 'bronze_interview_raw' THEN
            RETURN (SELECT payload_hash FROM public.bronze_interview_raw WHERE case_id = p_case_id
                    ORDER BY ingest_seq DESC LIMIT 1);
    END CASE;
END
$$;

-- BEFORE INSERT: make sure the case exists, hash the payload, and skip a payload identical
-- to the case's latest one. The advisory lock serialises concurrent ingestion of a case
-- until the transaction ends, so the second session sees the first one's rows.
CREATE OR REPLACE FUNCTION public.trg_bronze_before_insert()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    latest_hash text;
BEGIN
    IF NEW.case_id IS NULL OR NEW.case_id !~ '^[0-9]{1,12}$' THEN
        RAISE EXCEPTION 'case_id must be 1 to 12 digits, got %', coalesce(quote_literal(NEW.case_id), 'NULL')
            USING ERRCODE = 'check_violation';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext(TG_TABLE_NAME), hashtext(NEW.case_id));
    PERFORM public.ensure_case(NEW.case_id);
    NEW.payload_hash := encode(sha256(convert_to(NEW.raw_response::text, 'UTF8')), 'hex');
    latest_hash := public.bronze_latest_hash(TG_TABLE_NAME, NEW.case_id);
    IF latest_hash = NEW.payload_hash THEN
        RETURN NULL;  -- already have exactly this payload as the case's current state
    END IF;
    RETURN NEW;
END
$$;

-- One source's promotion for one bronze row, isolated: a failure is recorded, never raised.
-- Each source provides silver_load_<source>(bronze_id uuid), which replaces everything that
-- case's silver rows derived from that source hold, from that bronze row.
CREATE OR REPLACE FUNCTION public.promote_bronze_row(p_source text, p_bronze_id uuid, p_case_id text)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    err_state text;
    err_message text;
    err_context text;
BEGIN
    BEGIN
        EXECUTE format('SELECT public.%I($1)', 'silver_load_' || p_source) USING p_bronze_id;
        RETURN true;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_message = MESSAGE_TEXT,
                                err_context = PG_EXCEPTION_CONTEXT;
        PERFORM public.record_transformation_error('silver', 'bronze_' || p_source || '_raw', p_bronze_id,
                                                   p_case_id, err_state, err_message, err_context);
        RETURN false;
    END;
END
$$;

-- Gold refresh deferral. While a bronze statement promotes its cases, the silver tables' gold
-- triggers (003/007) only note which gold parts of which cases their changes affect
-- (medallion.gold_pending: 'case_id:part' tokens, transaction-local, so a rolled-back case's
-- notes go with it) and the statement refreshes each noted case once at the end. Without this
-- an AT load alone refreshes a case's gold after each silver table it touches, and a TRT or an
-- unchanged silver load would refresh it for nothing.
CREATE OR REPLACE FUNCTION public.gold_deferred()
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('medallion.gold_deferred', true), '') = 'on';
$$;

CREATE OR REPLACE FUNCTION public.gold_defer(p_case_id text, p_parts text[])
RETURNS void LANGUAGE sql AS $$
    SELECT set_config('medallion.gold_pending',
                      concat_ws(',', nullif(current_setting('medallion.gold_pending', true), ''),
                                (SELECT string_agg(p_case_id || ':' || part, ',') FROM unnest(p_parts) AS part)),
                      true);
$$;

-- AFTER INSERT, once per statement: promote the newest row of each case in the batch, then
-- refresh the gold parts their silver changes affect, once per case.
CREATE OR REPLACE FUNCTION public.trg_bronze_promote()
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    row_to_promote record;
    refresh record;
    outer_deferred text := coalesce(current_setting('medallion.gold_deferred', true), '');
    outer_pending text := coalesce(current_setting('medallion.gold_pending', true), '');
    pending text[];
BEGIN
    PERFORM set_config('medallion.gold_deferred', 'on', true);
    PERFORM set_config('medallion.gold_pending', '', true);
    FOR row_to_promote IN
        SELECT DISTINCT ON (case_id) bronze_id, case_id
        FROM new_rows
        ORDER BY case_id, ingest_seq DESC
    LOOP
        PERFORM public.promote_bronze_row(TG_ARGV[0], row_to_promote.bronze_id, row_to_promote.case_id);
    END LOOP;
    pending := string_to_array(nullif(current_setting('medallion.gold_pending'), ''), ',');
    PERFORM set_config('medallion.gold_deferred', outer_deferred, true);
    IF outer_deferred = 'on' THEN  -- nested promotion: hand the notes to the outer one
        PERFORM set_config('medallion.gold_pending', concat_ws(',', nullif(outer_pending, ''),
                                                               array_to_string(pending, ',')), true);
        RETURN NULL;
    END IF;
    PERFORM set_config('medallion.gold_pending', outer_pending, true);
    FOR refresh IN
        SELECT latest.case_id, latest.bronze_id, noted.parts
        FROM (SELECT split_part(token, ':', 1) AS case_id, array_agg(DISTINCT split_part(token, ':', 2)) AS parts
              FROM unnest(pending) AS token GROUP BY 1) AS noted
        JOIN (SELECT DISTINCT ON (n.case_id) n.case_id, n.bronze_id FROM new_rows AS n
              ORDER BY n.case_id, n.ingest_seq DESC) AS latest USING (case_id)
        ORDER BY latest.case_id
    LOOP
        PERFORM public.gold_refresh_case(refresh.case_id, TG_TABLE_NAME, refresh.bronze_id, refresh.parts);
    END LOOP;
    RETURN NULL;
END
$$;

DO $$
DECLARE
    src text;
    tbl text;
BEGIN
    FOREACH src IN ARRAY ARRAY['at', 'wi', 'trt', 'interview'] LOOP
        tbl := 'bronze_' || src || '_raw';
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON public.%I', 'trg_' || tbl || '_before_insert', tbl);
        EXECUTE format('CREATE TRIGGER %I BEFORE INSERT ON public.%I
                        FOR EACH ROW EXECUTE FUNCTION public.trg_bronze_before_insert()',
                       'trg_' || tbl || '_before_insert', tbl);
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON public.%I', 'trg_' || tbl || '_promote', tbl);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON public.%I REFERENCING NEW TABLE AS new_rows
                        FOR EACH STATEMENT EXECUTE FUNCTION public.trg_bronze_promote(%L)',
                       'trg_' || tbl || '_promote', tbl, src);
    END LOOP;
END
$$;

-- Rebuild silver (and through its triggers, gold) from the latest bronze row of each source,
-- for one case or for all. For when a rule changes. Returns one row per source and case.
CREATE OR REPLACE FUNCTION public.rebuild_from_bronze(p_case_id text DEFAULT NULL)
RETURNS TABLE (source text, case_id text, bronze_id uuid, ok boolean)
LANGUAGE plpgsql AS $$
DECLARE
    src text;
BEGIN
    FOREACH src IN ARRAY ARRAY['at', 'wi', 'trt', 'interview'] LOOP
        FOR case_id, bronze_id IN
            EXECUTE format('SELECT DISTINCT ON (case_id) case_id, bronze_id FROM public.%I
                            WHERE $1 IS NULL OR case_id = $1
                            ORDER BY case_id, ingest_seq DESC', 'bronze_' || src || '_raw')
            USING p_case_id
        LOOP
            PERFORM pg_advisory_xact_lock(hashtext('bronze_' || src || '_raw'), hashtext(case_id));
            source := src;
            ok := public.promote_bronze_row(src, bronze_id, case_id);
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;
