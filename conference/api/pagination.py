"""Pagination of every list endpoint: `?limit=` is capped, so no request can ask the database
for more rows than it can count (`?limit=9223372036854775808` gets MAX_LIMIT rows, not a 500)."""

from rest_framework.pagination import LimitOffsetPagination

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class CappedLimitOffsetPagination(LimitOffsetPagination):
    default_limit = DEFAULT_LIMIT
    max_limit = MAX_LIMIT

    def get_schema_operation_parameters(self, view):
        """The OpenAPI parameters, saying that `limit` is capped."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.limit_query_param:
                parameter["description"] = (
                    f"Number of results to return per page (default {DEFAULT_LIMIT}; a larger "
                    f"value than {MAX_LIMIT} is read as {MAX_LIMIT})."
                )
        return parameters
