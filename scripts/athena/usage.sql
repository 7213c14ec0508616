-- Usage grouped by role, access key, event source, event name, error code, bucket and key
-- prefix, with counts and first/last times: what `emrguard usage` computes locally from log
-- files, done by Athena over the whole trail. Save the result as CSV.
-- Columns read by emrguard: role_arn, access_key_id, event_source, event_name, error_code,
-- bucket, key_prefix, variant, copy_source, event_count, first_seen, last_seen, sample_event_id.
-- key_prefix: the key's "directory" (or the ListObjects prefix) with partition values as `*`
-- (raw/dt=2024-01-01/part-0 -> raw/dt=*/), as emrguard collapses keys.
WITH calls AS (
  SELECT
    useridentity.sessioncontext.sessionissuer.arn AS role_arn,
    COALESCE(useridentity.accesskeyid, '') AS access_key_id,
    eventsource AS event_source,
    eventname AS event_name,
    COALESCE(errorcode, '') AS error_code,
    COALESCE(json_extract_scalar(requestparameters, '$.bucketName'), '') AS bucket,
    regexp_replace(
      COALESCE(
        regexp_extract(json_extract_scalar(requestparameters, '$.key'), '^(.*/)', 1),
        json_extract_scalar(requestparameters, '$.prefix'),
        ''),
      '([^/=]+)=[^/]*', '$1=*') AS key_prefix,
    CASE
      WHEN json_extract_scalar(requestparameters, '$.versionId') IS NOT NULL THEN 'version'
      WHEN json_extract_scalar(requestparameters, '$["x-amz-server-side-encryption"]') = 'aws:kms'
        OR json_extract_scalar(responseelements, '$["x-amz-server-side-encryption"]') = 'aws:kms'
        THEN 'sse-kms'
      ELSE ''
    END AS variant,
    COALESCE(
      regexp_replace(
        regexp_replace(url_decode(json_extract_scalar(requestparameters, '$["x-amz-copy-source"]')), '\?.*$', ''),
        '^/?([^/]+)/((?:.*/)?)[^/]*$', '$1/$2'),
      '') AS copy_source,
    eventtime,
    eventid
  FROM cloudtrail_logs
  WHERE "timestamp" BETWEEN '2024/01/01' AND '2024/03/31'
    AND useridentity.type = 'AssumedRole'
    AND useridentity.sessioncontext.sessionissuer.type = 'Role'
)
SELECT
  role_arn, access_key_id, event_source, event_name, error_code, bucket, key_prefix, variant,
  copy_source,
  count(*) AS event_count,
  min(eventtime) AS first_seen,
  max(eventtime) AS last_seen,
  min_by(eventid, eventtime) AS sample_event_id
FROM calls
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
ORDER BY 1, 3, 4
