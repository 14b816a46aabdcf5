"""Readers and writers of engine file formats (ncnn .param/.bin), written from the formats' documented layout."""
