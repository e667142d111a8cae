-- Install: the extension, its roles and its reference data
CREATE EXTENSION IF NOT EXISTS pubdata CASCADE;
SELECT extversion FROM pg_extension WHERE extname = 'pubdata';
SELECT rolname FROM pg_roles WHERE rolname LIKE 'pubdata\_%' ORDER BY 1;
SELECT code, name, level, parent FROM pubdata.region ORDER BY code;
-- not relocatable
ALTER EXTENSION pubdata SET SCHEMA public;
-- PUBLIC has no access to the catalog
SELECT count(*) AS public_table_grants FROM information_schema.role_table_grants
 WHERE table_schema = 'pubdata' AND grantee = 'PUBLIC';
