"""网格 · Grid page (being built)."""

import streamlit as st

st.title("网格")
