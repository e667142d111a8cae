COMMENT ON COLUMN pubdata.calendar.day IS 'the day (in pubdata.timezone, Asia/Shanghai by default)';
COMMENT ON COLUMN pubdata.objection.due_at IS 'end of the last working day allowed (in pubdata.timezone), from pubdata.add_working_days';

-- 65_scheduler.sql: cron runs on the clock of pubdata.timezone
COMMENT ON TYPE pubdata.schedule_kind IS 'frequency: the resource''s catalog update_frequency; interval; cron (5 fields, on the clock of pubdata.timezone)';
