r"""GLM families for the IRLS engine: the distribution's log-likelihood and its link.

A family describes ``E[y | x] = mu = g^{-1}(eta)`` and the log-likelihood ``l(y, eta)``
(McCullagh and Nelder 1989; statsmodels' ``families`` and fixest's ``feglm`` follow
the same split). What the estimation engine needs, per observation:

* ``working(y, eta)``: Newton weights ``w = -d^2 l / d eta^2`` and score
  ``s = d l / d eta``, so that the IRLS step regresses ``z = eta - o + s / w`` on the
  regressors and fixed effects with weights ``w`` (for canonical links the observed
  and expected information coincide);
* ``variance_weights(eta)``: the expected information ``mu'^2 / V(mu)`` at the
  solution (the bread of the sandwich);
* ``score_factor(eta)``: ``h = mu' / V(mu)``, so that the score of ``beta`` is
  ``x (y - mu) h`` (``h = 1`` for canonical links);
* ``deviance`` and ``loglik``; ``initial_eta``; ``mu_eta2`` (``d^2 mu / d eta^2``,
  for the incidental-parameter bias correction).

Families: :class:`Poisson` (log link; PPML, Santos Silva and Tenreyro 2006),
:class:`Logit`, :class:`Probit`, :class:`CLogLog` (binary outcomes) and
:class:`Gaussian` (identity link; least squares).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np
from scipy.special import erfinv, expit, gammaln, log_ndtr, ndtr, xlogy

from .arrays import is_constant

_SQRT2PI = float(np.sqrt(2.0 * np.pi))
#: cloglog: the linear predictor is clipped here (lambda = exp(eta) ~ 1e13)
_CLOGLOG_ETA_MAX = 30.0
#: Poisson: exp(eta) overflows beyond this
_POISSON_ETA_MAX = 700.0
_TINY = 1e-300


class Family(ABC):
    """A GLM family (distribution and link)."""

    #: short name used in results and error messages
    name: str = ""
    #: whether the outcome must be 0/1
    binary: bool = False
    #: whether the outcome must be non-negative
    nonnegative: bool = False

    @abstractmethod
    def inverse_link(self, eta: np.ndarray) -> np.ndarray:
        """``mu = g^{-1}(eta)``."""

    @abstractmethod
    def link(self, mu: np.ndarray) -> np.ndarray:
        """``eta = g(mu)``."""

    @abstractmethod
    def mu_eta(self, eta: np.ndarray) -> np.ndarray:
        """``d mu / d eta``."""

    @abstractmethod
    def mu_eta2(self, eta: np.ndarray) -> np.ndarray:
        """``d^2 mu / d eta^2``."""

    @abstractmethod
    def working(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Newton weights ``-d2 l / d eta2`` and scores ``d l / d eta`` (no prior weights)."""

    @abstractmethod
    def variance_weights(self, eta: np.ndarray) -> np.ndarray:
        """Expected information ``mu'^2 / V(mu)`` (no prior weights)."""

    @abstractmethod
    def score_factor(self, eta: np.ndarray) -> np.ndarray:
        """``h = mu' / V(mu)``: the score of ``beta`` is ``x (y - mu) h``."""

    @abstractmethod
    def loglik(self, y: np.ndarray, eta: np.ndarray, pw: np.ndarray) -> float:
        """Log-likelihood ``sum pw l(y, eta)``."""

    def deviance(self, y: np.ndarray, eta: np.ndarray, pw: np.ndarray) -> float:
        """``2 (l_saturated - l)``."""
        return 2.0 * (self.loglik_saturated(y, pw) - self.loglik(y, eta, pw))

    @abstractmethod
    def loglik_saturated(self, y: np.ndarray, pw: np.ndarray) -> float:
        """Log-likelihood of the saturated model ``mu = y``."""

    def initial_eta(self, y: np.ndarray, pw: np.ndarray) -> np.ndarray:
        """Starting values of the linear predictor."""
        return self.link((y + 0.5) / 2.0)

    def null_eta(self, y: np.ndarray, pw: np.ndarray) -> float:
        """Linear predictor of the constant-only model (no offset)."""
        return float(self.link(np.array([float(pw @ y) / float(pw.sum())]))[0])

    def clip(self, eta: np.ndarray) -> np.ndarray:
        """Keep the linear predictor where the family is computable (in place)."""
        return eta

    def bind(self, y: np.ndarray, pw: np.ndarray) -> BoundFamily:
        """The family bound to one outcome and prior weights, for the IRLS engine."""
        return BoundFamily(self, y, pw)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class BoundFamily:
    """A family with its outcome and prior weights: what :func:`irls` calls."""

    def __init__(self, family: Family, y: np.ndarray, pw: np.ndarray) -> None:
        self.family, self.y, self.pw = family, y, pw
        self.label = family.name
        self._sat = family.loglik_saturated(y, pw)

    def initial_eta(self) -> np.ndarray:
        return self.family.initial_eta(self.y, self.pw)

    def working(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.family.working(self.y, eta)

    def deviance(self, eta: np.ndarray) -> float:
        return 2.0 * (self._sat - self.family.loglik(self.y, eta, self.pw))

    def loglik(self, eta: np.ndarray) -> float:
        """``l = l_saturated - D / 2`` (the deviance is ``2 (l_saturated - l)``)."""
        return self.loglik_saturated() - 0.5 * self.deviance(eta)

    def loglik_saturated(self) -> float:
        return self._sat

    def variance_weights(self, eta: np.ndarray) -> np.ndarray:
        return self.family.variance_weights(eta)

    def clip(self, eta: np.ndarray) -> np.ndarray:
        return self.family.clip(eta)


# ---------------------------------------------------------------- Poisson
class Poisson(Family):
    """Poisson with log link: ``mu = exp(eta)``; weights ``mu``, score ``y - mu``.

    Starting values ``mu = y + 0.1 mean(y)``: R's ``glm`` and fixest start at
    ``mu = y + 0.1``, here on the outcome in units of its (weighted) mean, so that the
    start does not depend on the units of ``y``. Close to the saturated fit where
    ``y > 0``, it needs one or two IRLS steps fewer than ppmlhdfe's ``(y + mean y) / 2``
    on gravity panels (where the fixed effects explain most of the variation).
    """

    name = "ppml"
    nonnegative = True

    def inverse_link(self, eta: np.ndarray) -> np.ndarray:
        return np.exp(eta)

    def link(self, mu: np.ndarray) -> np.ndarray:
        return np.log(mu)

    def mu_eta(self, eta: np.ndarray) -> np.ndarray:
        return np.exp(eta)

    def mu_eta2(self, eta: np.ndarray) -> np.ndarray:
        return np.exp(eta)

    def working(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mu = np.exp(eta)
        return mu, y - mu

    def variance_weights(self, eta: np.ndarray) -> np.ndarray:
        return np.exp(eta)

    def score_factor(self, eta: np.ndarray) -> np.ndarray:
        return np.ones_like(eta)

    def loglik(self, y: np.ndarray, eta: np.ndarray, pw: np.ndarray) -> float:
        return float(pw @ (y * eta - np.exp(eta) - gammaln(y + 1.0)))

    def loglik_saturated(self, y: np.ndarray, pw: np.ndarray) -> float:
        return float(pw @ (xlogy(y, y) - y - gammaln(y + 1.0)))

    def initial_eta(self, y: np.ndarray, pw: np.ndarray) -> np.ndarray:
        return np.log(y + 0.1 * (float(pw @ y) / float(pw.sum())))

    def clip(self, eta: np.ndarray) -> np.ndarray:
        return np.minimum(eta, _POISSON_ETA_MAX, out=eta)

    def bind(self, y: np.ndarray, pw: np.ndarray) -> BoundFamily:
        return _BoundPoisson(self, y, pw)


class _BoundPoisson(BoundFamily):
    """Poisson with the outcome's constants computed once and ``exp(eta)`` reused:
    ``D = 2 sum w [y log y - y eta - y + mu]``."""

    def __init__(self, family: Family, y: np.ndarray, pw: np.ndarray) -> None:
        self.family, self.y, self.pw = family, y, pw
        self.label = family.name
        # unit prior weights (a broadcast vector): no weighted copy of y, plain sums
        self.unit = is_constant(pw) and float(pw[0]) == 1.0
        self.pwy = y if self.unit else pw * y
        self.sum_pwy = float(self.pwy.sum())
        self.c_ylogy = float(xlogy(y, y).sum() if self.unit else pw @ xlogy(y, y))
        self._last: tuple[np.ndarray, np.ndarray] | None = None
        self._sat_value: float | None = None

    def loglik_saturated(self) -> float:
        # computed on demand: the IRLS needs only deviances (no log-gamma)
        if self._sat_value is None:
            self._sat_value = self.family.loglik_saturated(self.y, self.pw)
        return self._sat_value

    def mu(self, eta: np.ndarray) -> np.ndarray:
        if self._last is not None and self._last[0] is eta:
            return self._last[1]
        mu = np.exp(eta)
        self._last = (eta, mu)
        return mu

    def working(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mu = self.mu(eta)
        return mu, self.y - mu

    def deviance(self, eta: np.ndarray) -> float:
        mu = self.mu(eta)
        return 2.0 * (self.c_ylogy - float(self.pwy @ eta) - self.sum_pwy
                      + float(mu.sum() if self.unit else self.pw @ mu))

    def variance_weights(self, eta: np.ndarray) -> np.ndarray:
        return self.mu(eta)


# ---------------------------------------------------------------- Gaussian
class Gaussian(Family):
    """Normal with identity link (least squares): weights 1, score ``y - eta``."""

    name = "ols"

    def inverse_link(self, eta: np.ndarray) -> np.ndarray:
        return eta

    def link(self, mu: np.ndarray) -> np.ndarray:
        return mu

    def mu_eta(self, eta: np.ndarray) -> np.ndarray:
        return np.ones_like(eta)

    def mu_eta2(self, eta: np.ndarray) -> np.ndarray:
        return np.zeros_like(eta)

    def working(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return np.ones_like(eta), y - eta

    def variance_weights(self, eta: np.ndarray) -> np.ndarray:
        return np.ones_like(eta)

    def score_factor(self, eta: np.ndarray) -> np.ndarray:
        return np.ones_like(eta)

    def loglik(self, y: np.ndarray, eta: np.ndarray, pw: np.ndarray) -> float:
        # concentrated Gaussian log-likelihood (sigma^2 at its MLE)
        rss = float(pw @ (y - eta) ** 2)
        n = float(pw.sum())
        return -0.5 * n * (np.log(2 * np.pi * max(rss, _TINY) / n) + 1.0)

    def deviance(self, y: np.ndarray, eta: np.ndarray, pw: np.ndarray) -> float:
        return float(pw @ (y - eta) ** 2)

    def loglik_saturated(self, y: np.ndarray, pw: np.ndarray) -> float:
        return 0.0

    def initial_eta(self, y: np.ndarray, pw: np.ndarray) -> np.ndarray:
        return y.astype(np.float64, copy=True)


# ---------------------------------------------------------------- binary
class Binary(Family):
    """Bernoulli outcome with a cdf link ``mu = F(eta)``; Newton (observed-information)
    IRLS weights; expected information ``mu'^2 / (mu (1 - mu))`` at the solution."""

    binary = True

    def variance_weights(self, eta: np.ndarray) -> np.ndarray:
        mu = self.inverse_link(eta)
        d = np.maximum(self.mu_eta(eta), _TINY)
        return d * d / np.maximum(mu * (1.0 - mu), _TINY)

    def score_factor(self, eta: np.ndarray) -> np.ndarray:
        mu = self.inverse_link(eta)
        return np.maximum(self.mu_eta(eta), _TINY) / np.maximum(mu * (1.0 - mu), _TINY)

    @abstractmethod
    def log_probs(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``log P(y = 1)`` and ``log P(y = 0)``, computed without cancellation."""

    def loglik(self, y: np.ndarray, eta: np.ndarray, pw: np.ndarray) -> float:
        lp, lq = self.log_probs(eta)
        return float(pw @ (y * lp + (1.0 - y) * lq))

    def loglik_saturated(self, y: np.ndarray, pw: np.ndarray) -> float:
        return 0.0


class Logit(Binary):
    """Logistic cdf (canonical link): weights ``mu (1 - mu)``, score ``y - mu``."""

    name = "logit"

    def inverse_link(self, eta: np.ndarray) -> np.ndarray:
        return expit(eta)

    def link(self, mu: np.ndarray) -> np.ndarray:
        mu = np.asarray(mu, dtype=np.float64)
        return np.log(mu / (1.0 - mu))

    def mu_eta(self, eta: np.ndarray) -> np.ndarray:
        p = expit(eta)
        return p * (1.0 - p)

    def mu_eta2(self, eta: np.ndarray) -> np.ndarray:
        p = expit(eta)
        return p * (1.0 - p) * (1.0 - 2.0 * p)

    def working(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mu = expit(eta)
        return np.maximum(mu * (1.0 - mu), _TINY), y - mu

    def variance_weights(self, eta: np.ndarray) -> np.ndarray:
        p = expit(eta)
        return np.maximum(p * (1.0 - p), _TINY)

    def score_factor(self, eta: np.ndarray) -> np.ndarray:
        return np.ones_like(eta)

    def log_probs(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return -np.logaddexp(0.0, -eta), -np.logaddexp(0.0, eta)


class Probit(Binary):
    """Standard normal cdf. Newton weights ``lambda (lambda + eta)`` and score ``lambda``
    with the signed inverse Mills ratio ``lambda = q phi(q eta) / Phi(q eta)``,
    ``q = 2y - 1`` (Fisher scoring can oscillate near the optimum with many fixed
    effects); ``h`` computed in logs for the tails."""

    name = "probit"

    def inverse_link(self, eta: np.ndarray) -> np.ndarray:
        return ndtr(eta)

    def link(self, mu: np.ndarray) -> np.ndarray:
        return np.sqrt(2.0) * erfinv(2.0 * np.asarray(mu, dtype=np.float64) - 1.0)

    def mu_eta(self, eta: np.ndarray) -> np.ndarray:
        return np.exp(-0.5 * eta * eta) / _SQRT2PI

    def mu_eta2(self, eta: np.ndarray) -> np.ndarray:
        return -eta * np.exp(-0.5 * eta * eta) / _SQRT2PI

    def working(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q = 2.0 * y - 1.0
        u = q * eta
        lam = q * np.exp(-0.5 * u * u - 0.5 * np.log(2.0 * np.pi) - log_ndtr(u))
        return np.maximum(lam * (lam + eta), _TINY), lam

    def score_factor(self, eta: np.ndarray) -> np.ndarray:
        log_f = -0.5 * eta * eta - 0.5 * np.log(2.0 * np.pi)
        return np.exp(log_f - log_ndtr(eta) - log_ndtr(-eta))

    def variance_weights(self, eta: np.ndarray) -> np.ndarray:
        d = np.maximum(self.mu_eta(eta), _TINY)
        return d * self.score_factor(eta)

    def log_probs(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return log_ndtr(eta), log_ndtr(-eta)


class CLogLog(Binary):
    """Complementary log-log, ``mu = 1 - exp(-exp(eta))``: the entry equation of a
    Poisson number of exporters with ``ln lambda = eta``."""

    name = "cloglog"

    @staticmethod
    def _lam(eta: np.ndarray) -> np.ndarray:
        return np.exp(np.minimum(eta, _CLOGLOG_ETA_MAX))

    def inverse_link(self, eta: np.ndarray) -> np.ndarray:
        return -np.expm1(-self._lam(eta))

    def link(self, mu: np.ndarray) -> np.ndarray:
        return np.log(-np.log1p(-np.asarray(mu, dtype=np.float64)))

    def mu_eta(self, eta: np.ndarray) -> np.ndarray:
        lam = self._lam(eta)
        return lam * np.exp(-lam)

    def mu_eta2(self, eta: np.ndarray) -> np.ndarray:
        lam = self._lam(eta)
        return lam * np.exp(-lam) * (1.0 - lam)

    def working(self, y: np.ndarray, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # l = y log(1 - e^-lam) - (1 - y) lam, lam = e^eta
        lam = self._lam(eta)
        el = np.exp(-lam)
        q = np.maximum(-np.expm1(-lam), _TINY)
        g1 = lam * el / q
        info1 = lam * el * (lam + np.expm1(-lam)) / (q * q)
        score = np.where(y > 0, g1, -lam)
        info = np.where(y > 0, info1, lam)
        return np.maximum(info, _TINY), score

    def score_factor(self, eta: np.ndarray) -> np.ndarray:
        lam = self._lam(eta)
        return lam / np.maximum(-np.expm1(-lam), _TINY)

    def variance_weights(self, eta: np.ndarray) -> np.ndarray:
        lam = self._lam(eta)
        return np.maximum(lam * np.exp(-lam), _TINY) * self.score_factor(eta)

    def log_probs(self, eta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lam = self._lam(eta)
        return np.log(np.maximum(-np.expm1(-lam), _TINY)), -lam


FAMILIES: dict[str, type[Family]] = {
    "poisson": Poisson, "ppml": Poisson, "gaussian": Gaussian, "ols": Gaussian,
    "logit": Logit, "probit": Probit, "cloglog": CLogLog,
}


def get_family(family: str | Family) -> Family:
    """A :class:`Family` from an instance or a name (``"poisson"``, ``"logit"``, ...)."""
    if isinstance(family, Family):
        return family
    if isinstance(family, str) and family.lower() in FAMILIES:
        return FAMILIES[family.lower()]()
    raise ValueError(f"unknown family {family!r}: use one of {sorted(FAMILIES)} "
                     "or a gravity.estimation.families.Family instance")
