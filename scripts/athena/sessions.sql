-- Who each temporary access key was issued to: IRSA (AssumeRoleWithWebIdentity, subject
-- system:serviceaccount:<ns>:<sa>) and EKS Pod Identity (AssumeRoleForPodIdentity, subject
-- <ns>:<sa>). Save the result as CSV (the console's download, or the query's output location)
-- and give it to `emrguard usage` with the usage.sql result.
-- Columns read by emrguard: access_key_id, role_arn, subject, first_seen.
SELECT
  json_extract_scalar(responseelements, '$.credentials.accessKeyId') AS access_key_id,
  CASE eventname
    WHEN 'AssumeRoleWithWebIdentity' THEN json_extract_scalar(requestparameters, '$.roleArn')
    -- arn:aws:sts::<acct>:assumed-role/<name>/<session> -> arn:aws:iam::<acct>:role/<name>
    ELSE regexp_replace(
      json_extract_scalar(responseelements, '$.assumedRoleUser.arn'),
      '^arn:aws:sts::([0-9]+):assumed-role/([^/]+)/.*$', 'arn:aws:iam::$1:role/$2')
  END AS role_arn,
  CASE eventname
    WHEN 'AssumeRoleWithWebIdentity' THEN COALESCE(
      json_extract_scalar(responseelements, '$.subjectFromWebIdentityToken'), useridentity.username)
    ELSE concat(
      json_extract_scalar(responseelements, '$.subject.namespace'), ':',
      json_extract_scalar(responseelements, '$.subject.serviceAccount'))
  END AS subject,
  min(eventtime) AS first_seen
FROM cloudtrail_logs
WHERE "timestamp" BETWEEN '2024/01/01' AND '2024/03/31'
  AND eventname IN ('AssumeRoleWithWebIdentity', 'AssumeRoleForPodIdentity')
  AND errorcode IS NULL
GROUP BY 1, 2, 3
