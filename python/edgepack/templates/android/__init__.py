"""Android Studio project generator (``edgepack template android``); see generate.py and docs/android.md."""
