"""The outreach service: primary-school health education and WATCCH, and its view of community partners."""
