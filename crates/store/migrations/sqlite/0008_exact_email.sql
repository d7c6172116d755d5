-- ListUsers compares `email` exactly, as Cognito does: the column keeps the
-- address as the user's attribute has it (it was lower-cased before).
UPDATE users SET email = (
    SELECT json_extract(a.value, '$.value')
    FROM json_each(users.data, '$.attributes') a
    WHERE json_extract(a.value, '$.name') = 'email'
    LIMIT 1
) WHERE email IS NOT NULL;
