-- Demo data of the original system ("delete in production"): three users, two experiments, their
-- associations and ten hertz readings. Idempotent: loading it twice changes nothing.
-- The usernames are the Firebase uids the demo signs the users up with in the auth emulator.
INSERT INTO users (id, name, username, email, role) VALUES
  ('A001', 'Allan Alcorn', '5MS0kr1nE5Qm7ZNzAyHNCVfapcf2', 'aalcorn@home.cern', 'ADMIN'),
  ('S001', 'Peter Higg', 'uJayGH994iVa2TY5auSNYZoUpwk1', 'phigg@home.cern', 'SCIENTIST'),
  ('S002', 'Katie Bouman', 'hirbBCceXlWUGdpNHUpaNtworjm2', 'kbouman@home.cern', 'SCIENTIST')
ON DUPLICATE KEY UPDATE id = id;

INSERT INTO experiments (name) VALUES ('device-vibrations'), ('black-holes')
ON DUPLICATE KEY UPDATE name = name;

INSERT INTO user_experiments (experiment_id, user_id)
SELECT e.id, 'S001' FROM experiments e WHERE e.name = 'device-vibrations'
UNION ALL
SELECT e.id, 'S002' FROM experiments e WHERE e.name = 'black-holes'
ON DUPLICATE KEY UPDATE user_id = user_experiments.user_id;

INSERT INTO measures (experiment_id, ts, measure_type_id, source, value)
SELECT e.id, v.ts, t.id, '', v.value
FROM experiments e
JOIN measure_types t ON t.name = 'hertz'
JOIN (
  SELECT '2022-04-06 07:00:00' AS ts, 100 AS value UNION ALL SELECT '2022-04-06 07:01:00', 95
  UNION ALL SELECT '2022-04-06 07:02:00', 94 UNION ALL SELECT '2022-04-06 07:03:00', 110
  UNION ALL SELECT '2022-04-06 07:04:00', 120 UNION ALL SELECT '2022-04-06 07:05:00', 130
  UNION ALL SELECT '2022-04-06 07:06:00', 110 UNION ALL SELECT '2022-04-06 07:07:00', 110
  UNION ALL SELECT '2022-04-06 07:08:00', 105 UNION ALL SELECT '2022-04-06 07:09:00', 120
) v
WHERE e.name = 'device-vibrations'
ON DUPLICATE KEY UPDATE value = VALUES(value);
