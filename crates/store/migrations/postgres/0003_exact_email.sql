-- ListUsers compares `email` exactly, as Cognito does: the column keeps the
-- address as the user's attribute has it (it was lower-cased before).
UPDATE users SET email = (
    SELECT a ->> 'value'
    FROM jsonb_array_elements(data::jsonb -> 'attributes') a
    WHERE a ->> 'name' = 'email'
    LIMIT 1
) WHERE email IS NOT NULL;
