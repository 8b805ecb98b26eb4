#!/usr/bin/env Rscript
# One fepois per group with fixest's split= on a CSV file; prints one JSON object.
#
# Usage: Rscript fixest_split.R DATA.csv FORMULA SPLITVAR [--nthreads 2] [--fixef_tol 1e-8]
# Needs R_FIXEST_LIB (see ../shared/bench/r-oracle/README.md). Reading the file is timed
# apart (read_seconds); `seconds` is the fepois(..., split = ~SPLITVAR) call alone.
suppressPackageStartupMessages({
  libs <- unique(strsplit(Sys.getenv("R_FIXEST_LIB"), ":")[[1]])
  .libPaths(c(libs, .libPaths()))
  library(fixest)
  library(data.table)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
path <- args[1]
fml <- as.formula(args[2])
split_var <- args[3]
opt <- list(nthreads = "2", fixef_tol = "1e-8")
rest <- args[-(1:3)]
i <- 1
while (i <= length(rest)) {
  opt[[sub("^--", "", rest[i])]] <- rest[i + 1]
  i <- i + 2
}
nthreads <- as.integer(opt$nthreads)
setFixest_nthreads(nthreads)
setDTthreads(nthreads)
t0 <- proc.time()[["elapsed"]]
dt <- fread(path, showProgress = FALSE)
setDF(dt)
read_seconds <- proc.time()[["elapsed"]] - t0
invisible(gc(verbose = FALSE))
p0 <- proc.time()
t0 <- p0[["elapsed"]]
m <- fepois(fml, data = dt, split = as.formula(paste0("~", split_var)), nthreads = nthreads,
            fixef.tol = as.numeric(opt$fixef_tol), notes = FALSE)
p1 <- proc.time()
seconds <- p1[["elapsed"]] - t0
cpu_seconds <- sum((p1 - p0)[c("user.self", "sys.self")])
terms <- names(coef(m[[1]]))
cf <- t(sapply(seq_along(m), function(i) coef(m[[i]])[terms]))
samples <- models(m)$sample
out <- list(seconds = seconds, cpu_seconds = cpu_seconds, read_seconds = read_seconds, n_models = length(m),
            samples = as.character(samples), terms = terms,
            coef = unname(cf))
cat(toJSON(out, digits = I(15), auto_unbox = TRUE, matrix = "rowmajor", na = "null"))
