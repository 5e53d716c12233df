-- Indexes for the reports (/tongket, /thieu, /xuat, /tinhtrang), at national scale.
-- A year's registrations nationwide: the national summary and export filter on the year alone,
-- which no earlier index leads with.
CREATE INDEX registrations_year ON registrations (year, province_code, kind, status);
-- /tinhtrang's history finds audit entries of deleted evidence photos by their hamlet.
CREATE INDEX audit_area ON audit_log (area_id, subject_type);
