-- Users, experiments, their associations, measure types.
-- Portable across MariaDB 10.11, MySQL 8 and TiDB: no vendor-only types or functions.

CREATE TABLE users (
  id          VARCHAR(32)  NOT NULL,
  name        VARCHAR(255) NULL,
  -- Firebase uid; NULL once the user is erased (GDPR), so the unique key still holds.
  username    VARCHAR(128) NULL,
  email       VARCHAR(320) NULL,
  role        VARCHAR(16)  NOT NULL,
  created_at  DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  updated_at  DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  deleted_at  DATETIME(6)  NULL,
  PRIMARY KEY (id),
  UNIQUE KEY users_username (username),
  UNIQUE KEY users_email (email),
  CONSTRAINT users_role CHECK (role IN ('ADMIN', 'SCIENTIST'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE experiments (
  id          INT UNSIGNED NOT NULL AUTO_INCREMENT,
  name        VARCHAR(255) NOT NULL,
  created_at  DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (id),
  UNIQUE KEY experiments_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE user_experiments (
  experiment_id INT UNSIGNED NOT NULL,
  user_id       VARCHAR(32)  NOT NULL,
  created_at    DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  PRIMARY KEY (experiment_id, user_id),
  KEY user_experiments_user (user_id),
  CONSTRAINT user_experiments_experiment FOREIGN KEY (experiment_id) REFERENCES experiments (id),
  CONSTRAINT user_experiments_user FOREIGN KEY (user_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE measure_types (
  id          SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,
  name        VARCHAR(64)  NOT NULL,
  symbol      VARCHAR(16)  NOT NULL,
  quantity    VARCHAR(128) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY measure_types_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
