"""The projects service: Community Action Projects and the community partners they work with."""
