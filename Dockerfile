# One image for every service; the command picks the process (`cos run`, later per-service entry points).
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared shared
COPY services services
COPY cos cos
COPY bench bench
RUN pip install --no-cache-dir . && useradd --uid 10001 cos
USER cos
ENV COS_HOST=0.0.0.0 COS_PORT=8000 COS_DATA=/data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/readyz').status != 200)"
CMD ["cos", "run"]
