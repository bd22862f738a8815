from tests.conftest import Cast
from tests.factories import OpportunityFactory


def test_it_builds_a_deal_in_the_owners_organization_and_team(cast: Cast) -> None:
    deal = OpportunityFactory(owner=cast.owner)
    assert deal.organization == cast.org
    assert deal.team == cast.team
