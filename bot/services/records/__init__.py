"""The medical record as the bot shows it: periods, documents rendered to text, lab tables,
trend charts, PDFs, and the journal of who viewed a card. No aiogram here."""
