"""Appointments: booking, my visits, slot watches — flow logic without a messenger."""
